package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// TestRemovedSinkDeadLetters queues work for a sink, removes the sink with Apply and starts the
// dispatcher: the queued deliveries become dead letters with reason config, and nothing is sent.
func TestRemovedSinkDeadLetters(t *testing.T) {
	st := openStore(t)
	gone, kept := &fakeSink{}, &fakeSink{}
	d, m := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
	d.Apply(map[string]*Target{"gone": target("gone", gone, 1), "kept": target("kept", kept, 1)})
	goneIDs := enqueue(t, st, "gone", 3)
	keptIDs := enqueue(t, st, "kept", 2)
	d.Apply(map[string]*Target{"kept": target("kept", kept, 1)})
	stop, _ := start(t, d)
	waitState(t, st, store.Dead, goneIDs...)
	waitState(t, st, store.Delivered, keptIDs...)
	stop() // outcomes are stored before they are counted: let the workers finish counting
	for _, id := range goneIDs {
		got := get(t, st, id)
		if got.LastReason != string(sinks.ReasonConfig) || !strings.Contains(got.LastError, `sink "gone" is no longer configured`) {
			t.Errorf("delivery %d: reason %q error %q, want reason config naming the sink", id, got.LastReason, got.LastError)
		}
	}
	if n := len(gone.received()); n != 0 {
		t.Errorf("removed sink was sent %d deliveries, want 0", n)
	}
	if got := testutil.ToFloat64(m.Attempts.WithLabelValues("gone", "permanent", "config")); got != 3 {
		t.Errorf("delivery_attempts_total{sink=gone,result=permanent,reason=config} = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.Outcomes.WithLabelValues("gone", "dead")); got != 3 {
		t.Errorf("deliveries_total{sink=gone,outcome=dead} = %v, want 3", got)
	}
}

// TestApplyAddsSinkWhileRunning adds a sink to a running dispatcher: its queued work is delivered.
func TestApplyAddsSinkWhileRunning(t *testing.T) {
	st := openStore(t)
	a, b := &fakeSink{}, &fakeSink{}
	d, _ := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
	d.Apply(map[string]*Target{"a": target("a", a, 1)})
	start(t, d)
	d.Apply(map[string]*Target{"a": target("a", a, 1), "b": target("b", b, 1)})
	ids := enqueue(t, st, "b", 2)
	d.Notify("b")
	waitState(t, st, store.Delivered, ids...)
	if got := b.sent.Load(); got != 2 {
		t.Errorf("new sink sent %d, want 2", got)
	}
}

// observedStore is the real SQLite store, reporting each NextDue call: a worker calls it just before it
// goes to sleep.
type observedStore struct {
	*sqlite.Store
	nextDue chan struct{}
}

func (s *observedStore) NextDue(ctx context.Context, sink string) (time.Time, bool, error) {
	t, ok, err := s.Store.NextDue(ctx, sink)
	select {
	case s.nextDue <- struct{}{}:
	default:
	}
	return t, ok, err
}

// TestNotifyWakesWorker polls only once an hour, so only Notify can get the delivery sent in time.
func TestNotifyWakesWorker(t *testing.T) {
	st := &observedStore{Store: openStore(t), nextDue: make(chan struct{}, 1)}
	sink := &fakeSink{}
	d, _ := newDispatcher(st, Options{Poll: time.Hour})
	d.Apply(map[string]*Target{"s": target("s", sink, 1)})
	start(t, d)
	<-st.nextDue // the worker found nothing and is going to sleep for an hour
	ids := enqueue(t, st, "s", 1)
	d.Notify("s")
	d.Notify("unknown") // ignored
	waitState(t, st, store.Delivered, ids...)
}

// TestWatchNotifies wires the store's Watch to Notify as serve does: ingest alone wakes the worker.
func TestWatchNotifies(t *testing.T) {
	st := &observedStore{Store: openStore(t), nextDue: make(chan struct{}, 1)}
	sink := &fakeSink{}
	d, _ := newDispatcher(st, Options{Poll: time.Hour})
	d.Apply(map[string]*Target{"s": target("s", sink, 1)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := st.Watch(ctx, d.Notify); err != nil {
		t.Fatalf("watch: %v", err)
	}
	start(t, d)
	<-st.nextDue
	ids := enqueue(t, st, "s", 2)
	waitState(t, st, store.Delivered, ids...)
}

func TestShutdownLetsSendFinishWithinGrace(t *testing.T) {
	st := openStore(t)
	started, release := make(chan struct{}), make(chan struct{})
	sink := &fakeSink{send: func(ctx context.Context, _ *sinks.Delivery) error {
		close(started)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	d, _ := newDispatcher(st, Options{Poll: 10 * time.Millisecond, Grace: time.Hour})
	d.Apply(map[string]*Target{"s": target("s", sink, 1)})
	ids := enqueue(t, st, "s", 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a send was still in flight")
	default:
	}
	close(release)
	<-done
	if got := get(t, st, ids[0]); got.State != store.Delivered {
		t.Errorf("state after shutdown = %q (error %q), want delivered", got.State, got.LastError)
	}
}

func TestShutdownCancelsSendAfterGrace(t *testing.T) {
	st := openStore(t)
	started := make(chan struct{})
	sink := &fakeSink{send: func(ctx context.Context, _ *sinks.Delivery) error {
		close(started)
		<-ctx.Done() // a receiver that never answers
		return ctx.Err()
	}}
	d, m := newDispatcher(st, Options{Poll: 10 * time.Millisecond, Grace: 20 * time.Millisecond})
	d.Apply(map[string]*Target{"s": target("s", sink, 1)})
	ids := enqueue(t, st, "s", 1)
	stop, _ := start(t, d)
	<-started
	before := time.Now()
	stop()
	got := get(t, st, ids[0])
	if got.State != store.Pending || got.Attempts != 1 {
		t.Fatalf("state after shutdown = %q attempts %d, want pending after 1 attempt", got.State, got.Attempts)
	}
	if got.NextAttemptAt.After(time.Now()) || got.NextAttemptAt.Before(before) {
		t.Errorf("next attempt at %s, want as soon as a worker runs again (between %s and now)", got.NextAttemptAt, before)
	}
	if !strings.HasPrefix(got.LastError, "interrupted by shutdown: ") {
		t.Errorf("last error = %q, want it to say the shutdown interrupted it", got.LastError)
	}
	as, err := st.Attempts(context.Background(), ids[0])
	if err != nil || len(as) != 1 || as[0].Result != "retry" {
		t.Errorf("attempts = %+v (err %v), want one retry", as, err)
	}
	if got := testutil.ToFloat64(m.Outcomes.WithLabelValues("s", "dead")); got != 0 {
		t.Errorf("deliveries_total{outcome=dead} = %v, want 0", got)
	}
}

// TestSendBoundedByLease has a receiver that never answers the first attempt: the attempt is cut short
// before its lease runs out, recorded as a timeout to retry (not as a shutdown), and the retry delivers.
func TestSendBoundedByLease(t *testing.T) {
	st := openStore(t)
	sink := &fakeSink{send: func(ctx context.Context, d *sinks.Delivery) error {
		if d.Attempt == 1 {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}}
	d, _ := newDispatcher(st, Options{Poll: 10 * time.Millisecond, Lease: 200 * time.Millisecond})
	d.Apply(map[string]*Target{"s": target("s", sink, 1)})
	ids := enqueue(t, st, "s", 1)
	start(t, d)
	waitState(t, st, store.Delivered, ids...)
	as, err := st.Attempts(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("attempts = %+v, want 2", as)
	}
	if as[0].Result != "retry" || as[0].Reason != "timeout" || strings.HasPrefix(as[0].Error, "interrupted") {
		t.Errorf("first attempt = %+v, want a timeout to retry, not a shutdown", as[0])
	}
	if as[1].Result != "success" {
		t.Errorf("second attempt result = %q, want success", as[1].Result)
	}
}

// TestLeaseLostOutcomeIgnored lets another owner claim a delivery whose lease it considers expired while
// the first send is still running: the first send's outcome is refused by the store and not counted.
func TestLeaseLostOutcomeIgnored(t *testing.T) {
	st := openStore(t)
	started, release := make(chan struct{}), make(chan struct{})
	sink := &fakeSink{send: func(ctx context.Context, _ *sinks.Delivery) error {
		close(started)
		<-release
		return nil
	}}
	d, m := newDispatcher(st, Options{Poll: 10 * time.Millisecond, Lease: time.Hour})
	d.Apply(map[string]*Target{"s": target("s", sink, 1)})
	ids := enqueue(t, st, "s", 1)
	stop, _ := start(t, d)
	<-started
	// Another replica, whose clock is past the lease, claims the delivery.
	taken, err := st.Claim(context.Background(), "s", "other-replica", 1, time.Hour, time.Now().Add(2*time.Hour))
	if err != nil || len(taken) != 1 {
		t.Fatalf("claim by another replica: %d deliveries, err %v; want 1", len(taken), err)
	}
	close(release)
	stop()
	got := get(t, st, ids[0])
	if got.State != store.InFlight || got.LeaseOwner != "other-replica" {
		t.Errorf("delivery = state %q owner %q, want in_flight leased to other-replica", got.State, got.LeaseOwner)
	}
	if n := testutil.ToFloat64(m.Outcomes.WithLabelValues("s", "delivered")); n != 0 {
		t.Errorf("deliveries_total{outcome=delivered} = %v, want 0: the outcome was not recorded", n)
	}
}

// TestUnreadableMessageIsDead sends nothing for a delivery whose stored message is not a message (such
// as a render failure replayed by mistake): it is dead with reason template at once.
func TestUnreadableMessageIsDead(t *testing.T) {
	tests := []struct {
		name      string
		message   []byte
		wantError string
	}{
		{"not a message", []byte(`not json`), "stored message is unreadable"},
		{"a render failure replayed", nil, "failed to render when the call arrived"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			sink := &fakeSink{}
			d, _ := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
			d.Apply(map[string]*Target{"s": target("s", sink, 1)})
			ids, err := st.Ingest(context.Background(), &store.Call{ID: nextCallID.Add(1), Raw: []byte(`{}`)},
				[]store.NewDelivery{{Rule: "r", Sink: "s", Message: tt.message}})
			if err != nil {
				t.Fatal(err)
			}
			start(t, d)
			waitState(t, st, store.Dead, ids...)
			got := get(t, st, ids[0])
			if got.LastReason != "template" || got.Attempts != 1 || !strings.Contains(got.LastError, tt.wantError) {
				t.Errorf("delivery = reason %q, error %q after %d attempts; want template, %q, after 1",
					got.LastReason, got.LastError, got.Attempts, tt.wantError)
			}
			if n := len(sink.received()); n != 0 {
				t.Errorf("Send called %d times, want 0", n)
			}
		})
	}
}
