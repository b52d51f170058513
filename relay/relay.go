// Package relay runs a Switchboard server: it loads the config, opens the store, starts the delivery
// workers and the HTTP server, reloads the config on request, purges old data, and shuts all of it
// down in order. `switchboard serve` is a thin wrapper around Run, so tests can start a whole relay in
// process.
package relay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/dispatch"
	"github.com/switchboard-relay/switchboard/notify"
	"github.com/switchboard-relay/switchboard/router"
	"github.com/switchboard-relay/switchboard/store"
)

// Options configure Run. ConfigPath is required.
type Options struct {
	ConfigPath string
	// Logger is used for everything; nil builds one from the config's log block.
	Logger *slog.Logger
	// LogFormat and LogLevel, when set, override the config's log.format and log.level
	// (`serve --log-format/--log-level`).
	LogFormat, LogLevel string
	// Listener, when set, is served instead of listening on server.listen (tests pass one on port 0).
	Listener net.Listener
	// Reload receives a value for every reload request (SIGHUP).
	Reload <-chan struct{}
	// Ready, when set, is called with the bound address once the relay serves requests.
	Ready func(addr net.Addr)
	// Registry receives the metrics; nil creates a fresh one.
	Registry *prometheus.Registry
	// Version is reported by switchboard_build_info.
	Version string
	// ShutdownGrace bounds how long in-flight requests and sends may finish after ctx is done.
	// Default 10s.
	ShutdownGrace time.Duration
}

// Run serves until ctx is done, then shuts down gracefully: it stops accepting requests, lets
// in-flight webhooks commit, lets in-flight deliveries finish for up to the grace period, and closes the
// store. It returns nil after a clean shutdown, or the error that prevented starting.
func Run(ctx context.Context, opts Options) error {
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	loaded, log, err := load(opts.ConfigPath, true, func(cfg *config.Config) (*slog.Logger, error) {
		if opts.Logger != nil {
			return opts.Logger, nil
		}
		return NewLogger(os.Stderr, cmp.Or(opts.LogFormat, cfg.Log.Format), cmp.Or(opts.LogLevel, cfg.Log.Level), cfg.Log.ShowPhoneNumbers)
	})
	if err != nil {
		return fmt.Errorf("load config:\n%w", err)
	}
	cfg := loaded.Runtime.Config

	// Before the store is opened and its in-flight work recovered: that work may be another serve's.
	unlock, err := lockStorage(cfg.Storage)
	if err != nil {
		return err
	}
	defer unlock()

	st, err := OpenStore(ctx, cfg.Storage, log.With("component", "store"))
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close storage", "err", err)
		}
	}()
	if r, ok := st.(interface {
		RecoverInFlight(context.Context) (int, error)
	}); ok {
		// One process owns an SQLite file (lockStorage): whatever was in flight when it last
		// stopped was cut short.
		if n, err := r.RecoverInFlight(ctx); err != nil {
			return fmt.Errorf("recover in-flight deliveries: %w", err)
		} else if n > 0 {
			log.Warn("deliveries interrupted by the last shutdown will be retried now", "count", n)
		}
	}
	// Readiness follows the store's commits: a failed one (a full disk) takes the relay out of a
	// load balancer, and a write probe brings it back when the store can commit again.
	readiness := router.NewReadiness(st.Probe, router.DefaultProbeInterval, log.With("component", "readiness"))
	st = readiness.Watch(st)
	if st, err = crashAfterCommit(st, log); err != nil {
		return err
	}

	gatherer := opts.Registry
	if gatherer == nil {
		gatherer = prometheus.NewRegistry()
	}
	// Everything Run registers is unregistered when it returns, so a registry can serve a relay
	// that is run again in the same process.
	reg := &trackingRegisterer{Registerer: gatherer}
	defer reg.unregisterAll()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "switchboard", Name: "build_info", Help: "Always 1; labels carry the version.",
	}, []string{"version", "goversion"})
	buildInfo.WithLabelValues(opts.Version, runtime.Version()).Set(1)
	var current atomic.Pointer[router.Runtime]
	current.Store(loaded.Runtime)
	sinkNames := func() []string {
		var names []string
		for _, s := range current.Load().Config.Sinks {
			names = append(names, s.Name)
		}
		return names
	}
	reg.MustRegister(buildInfo, newQueueCollector(st, log, sinkNames))
	reloadMetrics := newReloadMetrics(reg)
	routerMetrics := router.NewMetrics(reg)
	routerMetrics.InitializeFor(loaded.Runtime)

	notifier := newNotifier(st, cfg, log, reg)
	notifier.Apply(loaded.Notify)
	disp := dispatch.New(dispatch.Options{
		Store: st, Logger: log.With("component", "dispatch"), Metrics: dispatch.NewMetrics(reg),
		Lease: cfg.Storage.Lease, Grace: opts.ShutdownGrace, Finished: notifier.DeliveryFinished,
		// A sink held or recovered is told to notify.sink_down.
		SinkStateChanged: func(ev dispatch.SinkStateEvent) {
			notifier.SinkStateChanged(notify.SinkStateEvent{
				Sink: ev.Sink, From: string(ev.From), To: string(ev.To), LastError: ev.LastError, At: ev.At,
			})
		},
	})
	disp.Apply(loaded.Targets)
	reloadMetrics.succeeded(time.Now())

	var reloadMu sync.Mutex
	var tlsS *tlsSetup
	reload := func() error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		tlsS.reload(log)
		next, err := Load(opts.ConfigPath, log)
		if err != nil {
			reloadMetrics.failed()
			log.Error("config reload rejected; the previous config stays in force", "err", err)
			return err
		}
		old := current.Load().Config
		warnRestartNeeded(log, old, next.Runtime.Config)
		routerMetrics.InitializeFor(next.Runtime)
		current.Store(next.Runtime)
		disp.Apply(next.Targets)
		notifier.Apply(next.Notify)
		reloadMetrics.succeeded(time.Now())
		log.Info("config reloaded", "rules", len(next.Runtime.Config.Rules), "sinks", len(next.Targets))
		return nil
	}

	handler := router.New(router.Options{
		Runtime: current.Load, Store: st, Logger: log.With("component", "http"), Metrics: routerMetrics,
		MetricsHandler: promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{Registry: reg}),
		Reload:         reload,
		Readiness:      readiness,
		SetSinkState:   disp.SetSinkState,
		Reserve:        disp.Reserve,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
			return fmt.Errorf("listen on server.listen %q: %w", cfg.Server.Listen, err)
		}
	}

	if tlsS, err = setupTLS(cfg.Server.TLS, cfg.Server.Listen, log); err != nil {
		ln.Close()
		return err
	}
	if tlsS != nil {
		defer tlsS.stop()
	}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var bg sync.WaitGroup
	bg.Go(func() { disp.Run(workCtx) })
	if err := st.Watch(workCtx, disp.Notify); err != nil {
		return fmt.Errorf("watch storage for new work: %w", err)
	}
	bg.Go(func() { purgeLoop(workCtx, st, current.Load, log) })
	bg.Go(func() { readiness.Run(workCtx) })
	bg.Go(func() { notifier.Run(workCtx) })
	bg.Go(func() {
		for {
			select {
			case <-workCtx.Done():
				return
			case <-opts.Reload:
				_ = reload() // reload logs its own outcome
			}
		}
	})

	if string(cfg.Server.AuthToken) == "" {
		log.Warn("server.auth.token is not set: anyone who can reach the webhook path can submit calls")
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- serve(srv, ln, tlsS) }()
	log.Info("switchboard started", "addr", ln.Addr().String(), "webhook_path", cfg.Server.WebhookPath,
		"storage", cfg.Storage.Driver, "rules", len(cfg.Rules), "sinks", len(loaded.Targets), "version", opts.Version)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopWork()
		bg.Wait()
		return fmt.Errorf("serve http: %w", err)
	}
	log.Info("shutting down: finishing in-flight requests and deliveries", "grace", opts.ShutdownGrace)
	// Deliveries and requests wind down side by side, so shutdown takes at most one grace period.
	// Calls acknowledged during the drain are on disk and delivered after the restart.
	stopWork()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http server", "err", err)
	}
	bg.Wait() // the store closes (deferred) only after both
	log.Info("switchboard stopped")
	return nil
}

// purgeLoop deletes data older than storage.retention (dead letters: storage.dead_letter_retention),
// at start and then every ten minutes, and logs how much of each kind every purge deleted.
func purgeLoop(ctx context.Context, st store.Store, rt func() *router.Runtime, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		storage := rt().Config.Storage
		if r, ok := retention(storage, time.Now()); ok {
			p, err := st.Purge(ctx, r)
			if err != nil && ctx.Err() == nil {
				log.Warn("purge old calls", "err", err)
			}
			if err == nil || p != (store.Purged{}) {
				log.Info("purged old data", "calls", p.Calls, "deliveries", p.Deliveries, "dead_deliveries", p.Dead,
					"retention", storage.Retention, "dead_letter_retention", storage.DeadLetterRetention)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// retention returns the cutoffs of a purge at now, and false when nothing is purged (retention 0
// keeps everything). Dead letters are kept for dead_letter_retention, never less than retention;
// dead_letter_retention 0 keeps them until replayed.
func retention(s config.Storage, now time.Time) (store.Retention, bool) {
	if s.Retention <= 0 {
		return store.Retention{}, false
	}
	r := store.Retention{Finished: now.Add(-s.Retention)}
	if s.DeadLetterRetention > 0 {
		r.Dead = now.Add(-max(s.Retention, s.DeadLetterRetention))
	}
	return r, true
}
