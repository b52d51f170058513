// Package dispatch delivers queued work: one worker per configured sink claims due deliveries from the
// store under a lease, sends them through the sink with the sink's concurrency and rate limit, and
// records each outcome: delivered, retry later (exponential backoff with full jitter, never before the
// receiver's Retry-After), or dead.
//
// A slow or failing sink only ever occupies its own worker: ingest never waits for delivery, and a
// delivery waiting for its retry time holds no goroutine (it sits in the store until it is due).
package dispatch

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// Target is one configured sink: its settings and the sink that sends.
type Target struct {
	Conf *config.Sink
	Sink sinks.Sink
}

// Options configure a Dispatcher. Store is required; zero values of the others mean the defaults.
type Options struct {
	Store   store.Store
	Logger  *slog.Logger
	Metrics *Metrics
	// Owner identifies this process in leases; each claim appends its own number. Default: a random id.
	Owner string
	// Lease is how long a claimed delivery is reserved; after it expires (the process died mid-send),
	// any worker may claim it again. A send is cancelled (and retried) when it would outlast 90% of
	// it. Default 2m.
	Lease time.Duration
	// Poll is the longest a worker sleeps between looks at the store, which bounds how late it notices
	// work queued by another process (`switchboard replay`). Work ingested by this process, or by any
	// replica on PostgreSQL, wakes workers at once. Default 2s.
	Poll time.Duration
	// Grace is how long in-flight sends may finish after the dispatcher is stopped before they are
	// cancelled (and retried after restart). Default 10s.
	Grace time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// SinkStateChanged, when set, is called once per change of a sink's state made by this process:
	// a pause or resume asked through SetSinkState, a sink held after failing for its hold_after, a
	// held sink made active by a successful probe. Changes made by another process are not reported
	// here (that process reports them). It must not block for long.
	SinkStateChanged func(ev SinkStateEvent)
	// Finished, when set, is called after each delivery reached its final state (delivered or dead)
	// and the store recorded it, with the last attempt's error. Notifications use it.
	Finished func(d *store.Delivery, state store.State, lastError string)
}

// Dispatcher runs the workers of every configured sink.
type Dispatcher struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	workers map[string]*worker
	claims  atomic.Uint64 // numbers each claim's lease owner
	running bool
	runCtx  context.Context // valid while running: workers stop when it is done
	sendCtx context.Context // cancelled Grace after runCtx is done
	wg      sync.WaitGroup
}

// New returns a dispatcher with no sinks; call Apply to give it some, and Run to start it.
func New(opts Options) *Dispatcher {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.Owner == "" {
		opts.Owner = randomOwner()
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Dispatcher{opts: opts, log: opts.Logger, workers: map[string]*worker{}}
}

// Apply makes targets the set of sinks to deliver to: workers start for new sinks, stop for removed
// ones (their in-flight sends finish), and pick up changed settings for the others. Deliveries still
// queued for a removed sink become dead letters with reason "config" when they come due.
func (d *Dispatcher) Apply(targets map[string]*Target) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, w := range d.workers {
		if _, ok := targets[name]; !ok {
			w.stop()
			delete(d.workers, name)
			d.opts.Metrics.forget(name)
		}
	}
	for name, t := range targets {
		if w, ok := d.workers[name]; ok {
			w.update(t)
			continue
		}
		d.opts.Metrics.InitializeFor(name)
		w := newWorker(d, name, t)
		d.workers[name] = w
		if d.running {
			d.start(w)
		}
	}
}

// Notify wakes the worker of sink because new work for it was queued. Unknown sinks are ignored.
func (d *Dispatcher) Notify(sink string) {
	d.mu.Lock()
	w := d.workers[sink]
	d.mu.Unlock()
	if w != nil {
		w.signal()
	}
}

// Run starts the workers and blocks until ctx is done. It then stops claiming work, lets in-flight
// sends finish for up to Grace, cancels the rest, and returns once every worker has recorded its
// outcomes.
func (d *Dispatcher) Run(ctx context.Context) {
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	d.mu.Lock()
	d.running, d.runCtx, d.sendCtx = true, ctx, sendCtx
	for _, w := range d.workers {
		d.start(w)
	}
	d.mu.Unlock()

	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.reapOrphans(ctx)
	}()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.followStates(ctx)
	}()

	<-ctx.Done()
	d.mu.Lock()
	d.running = false
	d.mu.Unlock()
	grace := time.AfterFunc(d.opts.Grace, cancelSends)
	defer grace.Stop()
	d.wg.Wait()
}

// start runs w until the dispatcher stops or w is removed. Called with d.mu held. The worker takes
// reservations from now on (once it knows its sink's state).
func (d *Dispatcher) start(w *worker) {
	ctx, cancel := context.WithCancel(d.runCtx)
	w.cancel = cancel
	w.accept(d.sendCtx)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		w.run(ctx, d.sendCtx)
	}()
}

func (d *Dispatcher) configured(sink string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.workers[sink]
	return ok
}

// reapOrphans turns due deliveries of sinks that are no longer configured into dead letters.
func (d *Dispatcher) reapOrphans(ctx context.Context) {
	t := time.NewTicker(5 * d.opts.Poll)
	defer t.Stop()
	for {
		names, err := d.opts.Store.QueuedSinks(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("list queued sinks", "err", err)
		}
		for _, name := range names {
			if !d.configured(name) {
				d.reapSink(ctx, name)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) reapSink(ctx context.Context, sink string) {
	for ctx.Err() == nil {
		now := d.opts.Now()
		ds, err := d.opts.Store.Claim(ctx, sink, d.opts.Owner, 100, d.opts.Lease, now)
		if err != nil || len(ds) == 0 {
			return
		}
		for _, sd := range ds {
			o := store.Outcome{State: store.Dead, Attempt: store.Attempt{
				DeliveryID: sd.ID, Number: sd.AttemptNumber, StartedAt: now, Result: resultPermanent,
				Reason: string(sinks.ReasonConfig),
				Error:  "sink " + quote(sink) + " is no longer configured: add it back and replay, or leave it dead",
			}}
			if err := d.opts.Store.Finish(ctx, sd.ID, d.opts.Owner, o); err != nil {
				d.log.Warn("record dead letter", "delivery_id", sd.ID, "sink", sink, "err", err)
				continue
			}
			d.opts.Metrics.Attempts.WithLabelValues(sink, resultPermanent, string(sinks.ReasonConfig)).Inc()
			d.opts.Metrics.Outcomes.WithLabelValues(sink, outcomeDead).Inc()
			d.log.Error("delivery dead", "delivery_id", sd.ID, "call_id", sd.CallID, "rule", sd.Rule,
				"sink", sink, "reason", sinks.ReasonConfig, "err", o.Attempt.Error)
			if f := d.opts.Finished; f != nil {
				f(sd, store.Dead, o.Attempt.Error)
			}
		}
	}
}

func quote(s string) string { return "\"" + s + "\"" }

func randomOwner() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// limiterFor returns the rate limiter for a sink's settings, or nil when it is unlimited.
func limiterFor(c *config.Sink) *rate.Limiter {
	if c.RateLimit == nil || c.RateLimit.Events <= 0 || c.RateLimit.Per <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(c.RateLimit.PerSecond()), c.RateLimit.Events)
}
