package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// worker delivers the queued work of one sink.
type worker struct {
	d    *Dispatcher
	name string

	mu      sync.Mutex
	target  *Target
	limiter *rate.Limiter

	inflight  atomic.Int64
	sinkState atomic.Value  // store.SinkState as last known
	failing   atomic.Bool   // the sink's failing clock runs (a success must clear it)
	wake      chan struct{} // capacity 1: a pending wake-up is never lost, extra ones coalesce
	cancel    context.CancelFunc
}

func newWorker(d *Dispatcher, name string, t *Target) *worker {
	return &worker{d: d, name: name, target: t, limiter: limiterFor(t.Conf), wake: make(chan struct{}, 1)}
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) stop() {
	if w.cancel != nil {
		w.cancel()
	}
}

// update switches the worker to new settings; sends already under way finish with the old ones.
func (w *worker) update(t *Target) {
	w.mu.Lock()
	old := w.target.Conf.RateLimit
	w.target = t
	if (old == nil) != (t.Conf.RateLimit == nil) || (old != nil && *old != *t.Conf.RateLimit) {
		w.limiter = limiterFor(t.Conf)
	}
	w.mu.Unlock()
	w.signal()
}

func (w *worker) current() (*Target, *rate.Limiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.target, w.limiter
}

// run claims and sends due deliveries until ctx is done, then waits for its sends (which run under
// sendCtx) to record their outcomes.
func (w *worker) run(ctx, sendCtx context.Context) {
	var sends sync.WaitGroup
	defer sends.Wait()
	st := w.d.opts.Store
	for ctx.Err() == nil {
		switch w.state() {
		case store.SinkPaused:
			// A resume wakes the worker (here, or through Watch from another process); look
			// at the stored state then.
			w.sleep(ctx, w.d.opts.Poll)
			w.d.refreshStates(ctx)
			continue
		case store.SinkHeld:
			w.probe(ctx, sendCtx)
			continue
		}
		t, lim := w.current()
		free := t.Conf.Delivery.Concurrency - int(w.inflight.Load())
		if free > 0 {
			// A rate-limited sink takes its token before it claims, one delivery at a time, so that
			// no claimed delivery waits for the limiter while its lease runs out.
			var token *rate.Reservation
			if lim != nil {
				free = 1
				token = lim.Reserve()
				if !w.waitToken(ctx, token.Delay()) {
					// Stopped, or woken by new settings or new work: give the token back and
					// look again with the settings now in force.
					token.Cancel()
					continue
				}
			}
			// Each claim leases under its own name, so that a Finish arriving after its lease expired
			// and the delivery was claimed again (even by this process) is refused.
			owner := w.d.opts.Owner + "/" + strconv.FormatUint(w.d.claims.Add(1), 10)
			ds, err := st.Claim(ctx, w.name, owner, free, w.d.opts.Lease, w.d.opts.Now())
			if token != nil && len(ds) == 0 {
				token.Cancel() // nothing to send: give the token back
			}
			if err != nil {
				if ctx.Err() == nil {
					w.d.log.Warn("claim deliveries", "sink", w.name, "err", err)
				}
				w.sleep(ctx, w.d.opts.Poll)
				continue
			}
			for _, sd := range ds {
				w.inflight.Add(1)
				sends.Add(1)
				go func() {
					defer sends.Done()
					w.deliver(sendCtx, sd, owner, false)
					w.inflight.Add(-1)
					w.signal()
				}()
			}
			if len(ds) == free {
				continue // there may be more due work and room for it
			}
		}
		wait := w.d.opts.Poll
		if free > 0 {
			if next, ok, err := st.NextDue(ctx, w.name); err == nil && ok {
				// A delivery that is due but was not claimed belongs to someone else's live
				// lease race, or to a sink paused or held since this worker last looked; look
				// again shortly rather than spinning.
				wait = min(wait, max(next.Sub(w.d.opts.Now()), 10*time.Millisecond))
				if !next.After(w.d.opts.Now()) {
					w.d.refreshStates(ctx)
				}
			}
		}
		w.sleep(ctx, wait)
	}
}

// waitToken waits d for a rate-limit token; it reports false when ctx is done or the worker is woken
// (new settings from Apply, or new work) first.
func (w *worker) waitToken(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-w.wake:
		return false
	case <-t.C:
		return true
	}
}

func (w *worker) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wake:
	case <-t.C:
	}
}

// deliver makes one attempt at sd (a held sink's probe when probe is set) and records its outcome.
func (w *worker) deliver(ctx context.Context, sd *store.Delivery, owner string, probe bool) {
	t, _ := w.current()
	now := w.d.opts.Now
	var err error
	msg := sinks.Message(sd.Message)
	switch {
	case len(sd.Message) == 0:
		err = sinks.Permanent(sinks.ReasonTemplate, errors.New("this action failed to render when the call "+
			"arrived, so there is nothing to send: fix the template, then have the call sent again"))
	case !json.Valid(sd.Message):
		err = sinks.Permanent(sinks.ReasonTemplate, errors.New("stored message is unreadable: it is not JSON"))
	}
	start := now()
	if err == nil {
		// The attempt must end while the lease is ours: after it, another worker may claim the
		// delivery and send it too.
		sendCtx, cancel := context.WithTimeout(ctx, w.d.opts.Lease*9/10)
		err = t.Sink.Send(sendCtx, &sinks.Delivery{
			ID: sd.ID, CallID: sd.CallID, Rule: sd.Rule, Action: sd.Action, Attempt: sd.Attempts, Message: msg,
		})
		cancel()
	}
	elapsed := now().Sub(start)
	interrupted := err != nil && ctx.Err() != nil
	o := decide(t.Conf.Delivery.Retry, sd, err, start, elapsed, now(), rand.Float64)
	if interrupted {
		// Shutdown cut the attempt short: retry as soon as a worker runs again.
		o = store.Outcome{State: store.Pending, NextAttemptAt: now(), Attempt: o.Attempt}
		o.Attempt.Result = resultRetry
		o.Attempt.Error = "interrupted by shutdown: " + o.Attempt.Error
	} else {
		o = w.track(context.WithoutCancel(ctx), sd, err, o, probe)
	}

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := w.d.opts.Store.Finish(fctx, sd.ID, owner, o); ferr != nil {
		w.notRecorded(sd, o, elapsed, ferr)
		return
	}
	w.observe(sd, o, elapsed)
	if f := w.d.opts.Finished; f != nil && (o.State == store.Delivered || o.State == store.Dead) {
		f(sd, o.State, o.Attempt.Error)
	}
}

// notRecorded logs an attempt whose outcome the store did not commit. Only what was committed is
// reported as delivered or dead: the delivery stays in flight in the store, and is sent again once
// its lease expires (or another worker already owns it), and that attempt is the one counted, like
// the attempt history in the store which does not have this one either.
func (w *worker) notRecorded(sd *store.Delivery, o store.Outcome, elapsed time.Duration, ferr error) {
	log := w.d.log.With("delivery_id", sd.ID, "call_id", sd.CallID, "rule", sd.Rule, "sink", w.name, "attempt", o.Attempt.Number)
	if errors.Is(ferr, store.ErrLeaseLost) {
		// Another worker owns it now; its outcome is the one that counts.
		log.Warn("delivery outcome not recorded: the lease passed to another worker",
			"outcome", string(o.State), "duration", elapsed, "err", ferr)
		return
	}
	log.Error("delivery outcome not recorded: it will be retried after the lease expires",
		"outcome", string(o.State), "duration", elapsed, "lease", w.d.opts.Lease, "err", ferr)
}

// observe updates metrics and logs one finished attempt.
func (w *worker) observe(sd *store.Delivery, o store.Outcome, elapsed time.Duration) {
	m := w.d.opts.Metrics
	a := o.Attempt
	m.Attempts.WithLabelValues(w.name, a.Result, a.Reason).Inc()
	m.Duration.WithLabelValues(w.name).Observe(elapsed.Seconds())
	log := w.d.log.With("delivery_id", sd.ID, "call_id", sd.CallID, "rule", sd.Rule, "sink", w.name, "attempt", a.Number)
	switch o.State {
	case store.Delivered:
		m.Outcomes.WithLabelValues(w.name, outcomeDelivered).Inc()
		m.Latency.WithLabelValues(w.name).Observe(w.d.opts.Now().Sub(sd.ReceivedAt).Seconds())
		log.Info("delivered", "duration", elapsed)
	case store.Dead:
		m.Outcomes.WithLabelValues(w.name, outcomeDead).Inc()
		log.Error("delivery dead", "reason", a.Reason, "status", a.StatusCode, "err", a.Error)
	default:
		// Log a retry loudly only when its error changed; a sink that stays down says so once.
		level := log.Debug
		if store.CleanText(a.Error) != sd.LastError {
			level = log.Warn
		}
		level("delivery will be retried", "reason", a.Reason, "status", a.StatusCode, "err", a.Error,
			"next_attempt", o.NextAttemptAt.UTC().Format(time.RFC3339))
	}
}

// decide turns the result of attempt sd.Attempts into the delivery's next state: delivered on
// success; dead when the error is permanent, max_attempts is reached, or the next attempt would fall
// past max_age (counted from when the delivery was queued); otherwise pending until a backoff with
// full jitter between initial_backoff and the attempt's exponential cap, and never earlier than the
// receiver's Retry-After.
func decide(r config.Retry, sd *store.Delivery, err error, start time.Time, elapsed time.Duration, now time.Time, random func() float64) store.Outcome {
	a := store.Attempt{DeliveryID: sd.ID, Number: sd.AttemptNumber, StartedAt: start, Duration: elapsed}
	if err == nil {
		a.Result = resultSuccess
		return store.Outcome{State: store.Delivered, Attempt: a}
	}
	se := sinks.Classify(err)
	a.Reason, a.Error, a.StatusCode = string(se.Reason), se.Error(), se.StatusCode
	dead := func(msg string) store.Outcome {
		a.Result = resultPermanent
		if msg != "" {
			a.Error = msg + ": " + a.Error
		}
		return store.Outcome{State: store.Dead, Attempt: a}
	}
	if !se.Retryable {
		return dead("")
	}
	if r.MaxAttempts > 0 && sd.Attempts >= r.MaxAttempts {
		return dead("gave up after " + attempts(sd.Attempts))
	}
	next := now.Add(Backoff(r, sd.Attempts, random))
	if se.RetryAfter > 0 && now.Add(se.RetryAfter).After(next) {
		next = now.Add(se.RetryAfter)
	}
	if r.MaxAge > 0 && next.Sub(sd.QueuedAt) > r.MaxAge {
		return dead(fmt.Sprintf("gave up after %s: the next would be past max_age %s", attempts(sd.Attempts), r.MaxAge))
	}
	a.Result = resultRetry
	return store.Outcome{State: store.Pending, NextAttemptAt: next, Attempt: a}
}

// Backoff returns the wait after failed attempt n (1 for the first): uniformly random between
// initial_backoff and min(max_backoff, initial_backoff·2^(n-1)). random returns a value in [0, 1).
func Backoff(r config.Retry, n int, random func() float64) time.Duration {
	initial, maxB := r.InitialBackoff, r.MaxBackoff
	if initial <= 0 {
		initial = time.Second
	}
	if maxB < initial {
		maxB = initial
	}
	ceiling := initial
	for i := 1; i < n && ceiling < maxB; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, maxB)
	return initial + time.Duration(random()*float64(ceiling-initial))
}

// attempts says "1 attempt" or "n attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}
