package dispatch

import (
	"context"
	"strconv"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// SinkStateEvent is one change of a sink's state (see Options.SinkStateChanged).
type SinkStateEvent struct {
	Sink     string
	From, To store.SinkState
	// LastError is the sink's latest retryable failure (empty when none was recorded).
	LastError string
	At        time.Time
	// By says who made the change: "api <client address>" or "cli" for a pause or resume, "hold" when
	// the sink was held, "probe" when a probe's success made it active again ("success" when another
	// attempt, started before the hold, succeeded first).
	By string
}

// SetSinkState pauses (to = store.SinkPaused) or resumes (store.SinkActive) sink in st on behalf of
// by, for a process without a dispatcher (the CLI), and calls hook, when not nil, if the state
// changed. Resuming a held sink makes it active too. Running relays follow the stored state.
func SetSinkState(ctx context.Context, st store.Store, sink string, to store.SinkState, by string, now time.Time, hook func(SinkStateEvent)) (store.SinkChange, error) {
	ch, err := st.SetSinkState(ctx, sink, to, by, now)
	if err == nil && ch.Changed() && hook != nil {
		hook(event(ch, by, now))
	}
	return ch, err
}

// SetSinkState pauses or resumes sink (see the package function SetSinkState) on behalf of by: it
// logs the change with who asked, calls Options.SinkStateChanged if the state changed, and wakes
// the sink's worker at once.
func (d *Dispatcher) SetSinkState(ctx context.Context, sink string, to store.SinkState, by string) (store.SinkChange, error) {
	ch, err := d.opts.Store.SetSinkState(ctx, sink, to, by, d.opts.Now())
	if err != nil {
		return ch, err
	}
	if !ch.Changed() {
		d.log.Info("sink state unchanged", "sink", sink, "state", ch.To, "by", by)
	}
	d.announce(ch, by)
	if w := d.worker(sink); w != nil {
		w.setState(ch.To)
		w.signal()
	}
	return ch, nil
}

func event(ch store.SinkChange, by string, now time.Time) SinkStateEvent {
	at := ch.At
	if at.IsZero() {
		at = now
	}
	return SinkStateEvent{Sink: ch.Sink, From: ch.From, To: ch.To, LastError: ch.LastError, At: at, By: by}
}

// announce logs ch, sets the gauge and calls the hook when the state changed.
func (d *Dispatcher) announce(ch store.SinkChange, by string) {
	if !ch.Changed() {
		return
	}
	ev := event(ch, by, d.opts.Now())
	switch {
	case ch.To == store.SinkHeld:
		d.log.Error("sink held: every attempt failed for its hold_after; its deliveries wait and one probe at a time tests it",
			"sink", ch.Sink, "from", ch.From, "by", by, "err", ch.LastError)
	case ch.From == store.SinkHeld && (by == "probe" || by == "success"):
		d.log.Warn("sink recovered: an attempt succeeded; its backlog flows again, oldest first", "sink", ch.Sink, "by", by)
	default:
		d.log.Warn("sink state changed", "sink", ch.Sink, "from", ch.From, "to", ch.To, "by", by)
	}
	d.setGauge(ch.Sink, ch.To)
	if d.opts.SinkStateChanged != nil {
		d.opts.SinkStateChanged(ev)
	}
}

func (d *Dispatcher) setGauge(sink string, state store.SinkState) {
	if !d.configured(sink) {
		return
	}
	for _, s := range store.SinkStates {
		v := 0.0
		if s == state {
			v = 1
		}
		d.opts.Metrics.SinkState.WithLabelValues(sink, string(s)).Set(v)
	}
}

func (d *Dispatcher) worker(sink string) *worker {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.workers[sink]
}

// followStates reads every sink's state from the store each Poll, so that a pause, resume or hold
// made by the CLI or another replica reaches this process's workers and gauges.
func (d *Dispatcher) followStates(ctx context.Context) {
	t := time.NewTicker(d.opts.Poll)
	defer t.Stop()
	for {
		d.refreshStates(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) refreshStates(ctx context.Context) {
	all, err := d.opts.Store.SinkStatuses(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("read sink states", "err", err)
		}
		return
	}
	byName := make(map[string]store.SinkStatus, len(all))
	for _, st := range all {
		byName[st.Sink] = st
	}
	d.mu.Lock()
	workers := make(map[string]*worker, len(d.workers))
	for name, w := range d.workers {
		workers[name] = w
	}
	d.mu.Unlock()
	for name, w := range workers {
		st, ok := byName[name]
		if !ok {
			st = store.SinkStatus{Sink: name, State: store.SinkActive}
		}
		w.failing.Store(!st.FailingSince.IsZero())
		known := w.sinkState.Load() != nil
		if from := w.state(); w.setState(st.State) {
			if known {
				d.log.Info("sink state changed by another process", "sink", name, "from", from, "to", st.State, "by", st.ChangedBy)
			}
			w.signal()
		}
		d.setGauge(name, st.State)
	}
}

// state returns the sink's state as this worker last knew it.
func (w *worker) state() store.SinkState {
	if s, ok := w.sinkState.Load().(store.SinkState); ok {
		return s
	}
	return store.SinkActive
}

// setState records the sink's state and reports whether it changed.
func (w *worker) setState(s store.SinkState) bool {
	return w.sinkState.Swap(s) != s
}

// probe tries, while the sink is held, to claim its probe delivery (one at a time across every
// process sharing the store, at most one per probe_interval) and sends it.
func (w *worker) probe(ctx, sendCtx context.Context) {
	t, _ := w.current()
	every := t.Conf.Delivery.ProbeInterval
	if every <= 0 {
		every = time.Minute
	}
	wait := min(w.d.opts.Poll, every)
	if w.taken(1, 1) == 1 { // nothing else in flight: one probe at a time
		owner := w.d.opts.Owner + "/probe/" + itoa(w.d.claims.Add(1))
		sd, err := w.d.opts.Store.ClaimProbe(ctx, w.name, owner, every, w.d.opts.Lease, w.d.opts.Now())
		switch {
		case err != nil:
			if ctx.Err() == nil {
				w.d.log.Warn("claim probe delivery", "sink", w.name, "err", err)
			}
		case sd != nil:
			w.d.log.Info("probing held sink", "sink", w.name, "delivery_id", sd.ID, "call_id", sd.CallID)
			w.deliver(sendCtx, sd, owner, true)
			w.inflight.Add(-1)
			return // look again at once: the probe may have made the sink active
		}
		w.inflight.Add(-1)
	}
	w.sleep(ctx, wait)
	w.d.refreshStates(ctx) // a resume from another process wakes the worker through Watch
}

// track records an attempt's result in the sink's state and returns the outcome to store: a
// retryable failure while the sink is (or has just become) held or paused, or of a probe, keeps the
// delivery pending, its budget frozen, instead of letting it die of max_attempts or max_age.
func (w *worker) track(ctx context.Context, sd *store.Delivery, err error, o store.Outcome, probe bool) store.Outcome {
	t, _ := w.current()
	now := w.d.opts.Now()
	st := w.d.opts.Store
	if err == nil {
		if !probe && !w.failing.Load() && w.state() == store.SinkActive {
			return o // nothing to clear: spare the write
		}
		ch, serr := st.SinkSucceeded(ctx, w.name, now)
		if serr != nil {
			w.d.log.Warn("record sink success", "sink", w.name, "err", serr)
			return o
		}
		w.failing.Store(false)
		w.setState(ch.To)
		by := "success"
		if probe {
			by = "probe"
		}
		w.d.announce(ch, by)
		return o
	}
	se := sinks.Classify(err)
	if !se.Retryable {
		return o
	}
	ch, serr := st.SinkFailed(ctx, w.name, se.Error(), t.Conf.Delivery.HoldAfter, now)
	state := w.state()
	if serr != nil {
		w.d.log.Warn("record sink failure", "sink", w.name, "err", serr)
	} else {
		w.failing.Store(true)
		w.setState(ch.To)
		state = ch.To
		if ch.Changed() {
			w.d.announce(ch, "hold")
		}
	}
	if probe || state != store.SinkActive {
		o.State, o.NextAttemptAt = store.Pending, now
		o.Attempt.Result, o.Attempt.Error = resultRetry, se.Error()
	}
	return o
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
