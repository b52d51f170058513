// Package router is Switchboard's HTTP surface: the webhook ingest handler, health and readiness,
// Prometheus metrics, config reload and the admin API.
package router

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/dispatch"
	"github.com/switchboard-relay/switchboard/router/guard"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/ui"
)

// Runtime is one loaded configuration with its compiled rules. A reload swaps it as a whole, so a
// request is handled entirely by the configuration it started with.
type Runtime struct {
	Config *config.Config
	Rules  *rules.Ruleset
}

// Options configure a Router. Runtime and Store are required.
type Options struct {
	// Runtime returns the configuration in force.
	Runtime func() *Runtime
	Store   store.Store
	Logger  *slog.Logger
	Metrics *Metrics
	// Metrics handler for GET /metrics; nil serves 404.
	MetricsHandler http.Handler
	// Reload loads and applies the config file again; nil disables /-/reload.
	Reload func() error
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Readiness, when set, makes /readyz answer 503 while the store cannot commit.
	Readiness *Readiness
	// PublicURLs returns the URLs the server is reached under from outside; an admin request whose
	// Origin is one of them is not cross-site. Nil means the runtime's server.public_url.
	PublicURLs func() []string
	// SetSinkState pauses or resumes a sink on behalf of by (the dispatcher's, so that the change is
	// announced and reaches the workers at once); nil changes it in Store directly.
	SetSinkState func(ctx context.Context, sink string, to store.SinkState, by string) (store.SinkChange, error)
	// Reserve, when set, takes what a fresh delivery to sink needs to be sent at once (the
	// dispatcher's Reserve): the webhook's deliveries it reserves are stored already leased and
	// handed to their workers after the commit. Nil stores every delivery pending for the workers
	// to claim.
	Reserve func(sink string) (*dispatch.Reservation, bool)
}

// Router serves Switchboard's routes.
type Router struct {
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	guard *guard.Guard
}

// New returns a Router for the webhook path of the initial runtime. The webhook path is fixed for the
// life of the process (changing it needs a restart); everything else is read per request.
func New(opts Options) *Router {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Router{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if opts.PublicURLs == nil {
		opts.PublicURLs = func() []string {
			if u := opts.Runtime().Config.Server.PublicURL; u != "" {
				return []string{u}
			}
			return nil
		}
	}
	r.guard = guard.New(guard.Options{
		Token:      func() string { return string(opts.Runtime().Config.Server.AdminToken) },
		PublicURLs: opts.PublicURLs,
		Logger:     opts.Logger,
	})
	path := opts.Runtime().Config.Server.WebhookPath
	r.mux.HandleFunc("POST "+path, r.ingest)
	r.mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "use POST to deliver a webhook")
	})
	r.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.mux.HandleFunc("GET /readyz", r.ready)
	if opts.MetricsHandler != nil {
		r.mux.Handle("GET /metrics", opts.MetricsHandler)
	}
	r.mux.HandleFunc("POST /-/reload", r.admin(r.reload))
	r.mux.HandleFunc("GET /api/calls", r.admin(r.listCalls))
	r.mux.HandleFunc("GET /api/calls/{id}", r.admin(r.getCall))
	r.mux.HandleFunc("GET /api/deliveries", r.admin(r.listDeliveries))
	r.mux.HandleFunc("GET /api/deliveries/{id}", r.admin(r.getDelivery))
	r.mux.HandleFunc("POST /api/deliveries/{id}/retry", r.admin(r.retryDelivery))
	r.mux.HandleFunc("POST /api/deliveries/retry", r.admin(r.retryFiltered))
	r.mux.HandleFunc("POST /api/calls/{id}/retry", r.admin(r.retryCall))
	r.mux.HandleFunc("GET /api/sinks", r.admin(r.listSinks))
	r.mux.HandleFunc("POST /api/sinks/{name}/pause", r.admin(r.pauseSink))
	r.mux.HandleFunc("POST /api/sinks/{name}/resume", r.admin(r.resumeSink))
	// Profiles for diagnosing performance (`go tool pprof http://host/debug/pprof/profile`), guarded
	// like the admin API.
	r.mux.HandleFunc("GET /debug/pprof/", r.admin(pprof.Index))
	r.mux.HandleFunc("GET /debug/pprof/cmdline", r.admin(pprof.Cmdline))
	r.mux.HandleFunc("GET /debug/pprof/profile", r.admin(pprof.Profile))
	r.mux.HandleFunc("GET /debug/pprof/symbol", r.admin(pprof.Symbol))
	r.mux.HandleFunc("GET /debug/pprof/trace", r.admin(pprof.Trace))
	r.mux.Handle(ui.Prefix, r.console())
	r.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such route")
	})
	return r
}

// Guard returns the guard of every admin route, for other admin pages (the web console) to wrap
// their handlers with.
func (r *Router) Guard() *guard.Guard { return r.guard }

// ServeHTTP implements http.Handler.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

func (r *Router) ready(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	if r.opts.Runtime() == nil {
		writeError(w, http.StatusServiceUnavailable, "no configuration loaded")
		return
	}
	if err := r.opts.Store.Ping(ctx); err != nil {
		r.log.Warn("readiness: storage unreachable", "err", err)
		writeError(w, http.StatusServiceUnavailable, "storage unreachable")
		return
	}
	if r.opts.Readiness != nil && r.opts.Readiness.Err() != nil {
		writeError(w, http.StatusServiceUnavailable, "storage cannot commit (a full disk?): ready again once a write succeeds")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (r *Router) reload(w http.ResponseWriter, _ *http.Request) {
	if r.opts.Reload == nil {
		writeError(w, http.StatusNotFound, "reload is not available")
		return
	}
	if err := r.opts.Reload(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "config rejected, the previous one stays in force", "problems": strings.Split(err.Error(), "\n")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
}

// admin guards a handler with the admin guard (see package guard).
func (r *Router) admin(h http.HandlerFunc) http.HandlerFunc { return r.guard.WrapFunc(h).ServeHTTP }

func bearer(req *http.Request) string { return guard.Bearer(req) }

func tokenMatches(got, want string) bool { return guard.TokenMatches(got, want) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // an API answer, not HTML: keep <token> readable
	_ = enc.Encode(v)        // an error means the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// storeError answers 404 when what does not exist, and 503 when the store failed.
func storeError(w http.ResponseWriter, err error, what string) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, what+" not found")
		return
	}
	writeError(w, http.StatusServiceUnavailable, "storage unavailable")
}
