package dispatch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// events collects what Options.SinkStateChanged was called with.
type events struct {
	mu  sync.Mutex
	got []SinkStateEvent
}

func (e *events) add(ev SinkStateEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) list() []SinkStateEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

func wantEvents(t *testing.T, e *events, want ...[3]string) {
	t.Helper()
	got := e.list()
	if len(got) != len(want) {
		t.Fatalf("SinkStateChanged calls = %+v, want %d: %v", got, len(want), want)
	}
	for i, w := range want {
		if string(got[i].From) != w[0] || string(got[i].To) != w[1] || got[i].By != w[2] || got[i].Sink != "crm" || got[i].At.IsZero() {
			t.Errorf("event %d = %+v, want crm %s -> %s by %s with a time", i, got[i], w[0], w[1], w[2])
		}
	}
}

func wantGauge(t *testing.T, m *Metrics, sink string, state store.SinkState) {
	t.Helper()
	for _, s := range store.SinkStates {
		want := 0.0
		if s == state {
			want = 1
		}
		if got := testutil.ToFloat64(m.SinkState.WithLabelValues(sink, string(s))); got != want {
			t.Errorf("switchboard_sink_state{sink=%q,state=%q} = %v, want %v", sink, s, got, want)
		}
	}
}

// sentIDs returns the delivery ids a fake sink was sent, in order, from index from.
func sentIDs(f *fakeSink, from int) []int64 {
	var out []int64
	for _, d := range f.received()[from:] {
		out = append(out, d.ID)
	}
	return out
}

// TestHoldAfterFailing: a sink whose every attempt fails with a retryable error for hold_after is
// held; its deliveries then neither die of max_age nor spend max_attempts, one probe (the oldest
// delivery) is tried per probe_interval, and the first success makes it active: the backlog is sent
// oldest first. Both transitions are reported once. Time is synctest's.
func TestHoldAfterFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		var down atomic.Bool
		down.Store(true)
		crm := &fakeSink{send: func(context.Context, *sinks.Delivery) error {
			if down.Load() {
				return sinks.Retry(sinks.ReasonServerError, errors.New("unexpected status 503"))
			}
			return nil
		}}
		var ev events
		d, m := newDispatcher(st, Options{SinkStateChanged: ev.add})
		tg := target("crm", crm, 1)
		tg.Conf.Delivery = config.DeliveryPolicy{Concurrency: 1, HoldAfter: 10 * time.Minute, ProbeInterval: time.Minute,
			Retry: config.Retry{MaxAttempts: 15, InitialBackoff: time.Minute, MaxBackoff: time.Minute, MaxAge: 12 * time.Minute}}
		d.Apply(map[string]*Target{"crm": tg})
		ids := enqueue(t, st, "crm", 3)
		start(t, d)

		time.Sleep(11 * time.Minute)
		synctest.Wait()
		wantEvents(t, &ev, [3]string{"active", "held", "hold"})
		wantGauge(t, m, "crm", store.SinkHeld)
		before := make(map[int64]int)
		for _, id := range ids {
			before[id] = get(t, st, id).Attempts
		}
		sentBefore := len(crm.received())

		// An hour held: past max_age and max_attempts, yet nothing dies; only the oldest is probed,
		// once a minute.
		time.Sleep(time.Hour)
		synctest.Wait()
		probes := sentIDs(crm, sentBefore)
		if len(probes) < 59 || len(probes) > 61 {
			t.Errorf("%d probes in an hour held, want one per probe_interval (60)", len(probes))
		}
		for _, id := range probes {
			if id != ids[0] {
				t.Fatalf("probed delivery %d, want only the oldest (%d)", id, ids[0])
			}
		}
		for _, id := range ids {
			got := get(t, st, id)
			if got.State != store.Pending || got.Attempts != before[id] {
				t.Errorf("delivery %d after an hour held: %s with %d attempts, want pending with %d (held freezes the budget)",
					id, got.State, got.Attempts, before[id])
			}
		}

		down.Store(false)
		sentBefore = len(crm.received())
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		for _, id := range ids {
			if got := get(t, st, id); got.State != store.Delivered {
				t.Errorf("delivery %d after recovery: %s, want delivered", id, got.State)
			}
		}
		if got := sentIDs(crm, sentBefore); !slices.Equal(got, ids) {
			t.Errorf("sent after recovery %v, want the probe then the backlog oldest first %v", got, ids)
		}
		wantEvents(t, &ev, [3]string{"active", "held", "hold"}, [3]string{"held", "active", "probe"})
		wantGauge(t, m, "crm", store.SinkActive)
	})
}

// TestHoldAfterZeroNeverHolds: with hold_after 0 a failing sink stays active and its deliveries die
// of their budget as before.
func TestHoldAfterZeroNeverHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		crm := &fakeSink{send: func(context.Context, *sinks.Delivery) error {
			return sinks.Retry(sinks.ReasonServerError, errors.New("unexpected status 503"))
		}}
		var ev events
		d, m := newDispatcher(st, Options{SinkStateChanged: ev.add})
		tg := target("crm", crm, 1)
		tg.Conf.Delivery = config.DeliveryPolicy{Concurrency: 1, HoldAfter: 0, ProbeInterval: time.Minute,
			Retry: config.Retry{MaxAttempts: 100, InitialBackoff: time.Minute, MaxBackoff: time.Minute, MaxAge: 12 * time.Minute}}
		d.Apply(map[string]*Target{"crm": tg})
		ids := enqueue(t, st, "crm", 1)
		start(t, d)
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := get(t, st, ids[0]); got.State != store.Dead {
			t.Errorf("delivery after an hour failing with hold_after 0: %s, want dead of max_age", got.State)
		}
		wantEvents(t, &ev)
		wantGauge(t, m, "crm", store.SinkActive)
	})
}

// TestPauseResume: a paused sink is sent nothing, however long, and its deliveries keep their whole
// budget; resumed, it is sent everything, oldest first. A pause made by another process (the CLI)
// reaches the worker and the gauge without being reported as this process's change.
func TestPauseResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		crm := &fakeSink{}
		var ev events
		d, m := newDispatcher(st, Options{SinkStateChanged: ev.add})
		tg := target("crm", crm, 1)
		tg.Conf.Delivery.Retry.MaxAge = time.Minute
		d.Apply(map[string]*Target{"crm": tg})
		start(t, d)
		ch, err := d.SetSinkState(t.Context(), "crm", store.SinkPaused, "api 127.0.0.1:5555")
		if err != nil || !ch.Changed() {
			t.Fatalf("pause = %+v, %v; want a change", ch, err)
		}
		ids := enqueue(t, st, "crm", 3)
		d.Notify("crm")
		time.Sleep(time.Hour) // past max_age
		synctest.Wait()
		if n := len(crm.received()); n != 0 {
			t.Fatalf("paused sink was sent %d deliveries, want 0", n)
		}
		wantGauge(t, m, "crm", store.SinkPaused)
		for _, id := range ids {
			if got := get(t, st, id); got.State != store.Pending || got.Attempts != 0 {
				t.Errorf("delivery %d while paused: %s with %d attempts, want pending with 0", id, got.State, got.Attempts)
			}
		}
		if _, err := d.SetSinkState(t.Context(), "crm", store.SinkActive, "cli"); err != nil {
			t.Fatalf("resume: %v", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := sentIDs(crm, 0); !slices.Equal(got, ids) {
			t.Errorf("sent after resume %v, want %v", got, ids)
		}
		wantEvents(t, &ev, [3]string{"active", "paused", "api 127.0.0.1:5555"}, [3]string{"paused", "active", "cli"})
		wantGauge(t, m, "crm", store.SinkActive)

		// Another process pauses: this one's worker and gauge follow within Poll; no event here.
		if _, err := st.SetSinkState(t.Context(), "crm", store.SinkPaused, "cli", time.Now()); err != nil {
			t.Fatalf("pause from another process: %v", err)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		wantGauge(t, m, "crm", store.SinkPaused)
		if got := len(ev.list()); got != 2 {
			t.Errorf("SinkStateChanged called %d times, want 2: another process's change is reported there", got)
		}
		more := enqueue(t, st, "crm", 1)
		d.Notify("crm")
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := get(t, st, more[0]); got.State != store.Pending {
			t.Errorf("delivery queued while paused elsewhere: %s, want pending", got.State)
		}
	})
}

// TestSinkStateGaugeSeries: every configured sink has all three state series from Apply on, at
// zero until its state is known; a removed sink's series go away.
func TestSinkStateGaugeSeries(t *testing.T) {
	st := openStore(t)
	d, m := newDispatcher(st, Options{})
	d.Apply(map[string]*Target{"a": target("a", &fakeSink{}, 1), "b": target("b", &fakeSink{}, 1)})
	if got := testutil.CollectAndCount(m.SinkState); got != 6 {
		t.Errorf("sink_state series after Apply = %d, want 6 (2 sinks x 3 states)", got)
	}
	wantGauge(t, m, "a", "") // all zero
	d.Apply(map[string]*Target{"a": target("a", &fakeSink{}, 1)})
	if got := testutil.CollectAndCount(m.SinkState); got != 3 {
		t.Errorf("sink_state series after removing b = %d, want 3", got)
	}
}
