package dispatch

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// claimCounter is a store that counts the deliveries its Claim returned.
type claimCounter struct {
	store.Store
	claimed atomic.Int64
}

func (c *claimCounter) Claim(ctx context.Context, sink, owner string, limit int, lease time.Duration, now time.Time) ([]*store.Delivery, error) {
	ds, err := c.Store.Claim(ctx, sink, owner, limit, lease, now)
	c.claimed.Add(int64(len(ds)))
	return ds, err
}

// blockingSink returns a sink whose sends wait until release is closed or gives a value (or their
// context ends).
func blockingSink(release <-chan struct{}) *fakeSink {
	return &fakeSink{send: func(ctx context.Context, _ *sinks.Delivery) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
}

// ingestOne stores a call with one delivery to sink, as the router does: leased by rv and handed to
// it after the commit when rv is not nil, pending otherwise. It returns the delivery's id.
func ingestOne(t *testing.T, st store.Store, sink string, rv *Reservation) int64 {
	t.Helper()
	id := nextCallID.Add(1)
	c := &store.Call{ID: id, ReceivedAt: time.Now(), Status: "completed", Matched: []string{"r"}, Raw: []byte(`{}`)}
	nd := []store.NewDelivery{{Rule: "r", Sink: sink, Message: fmt.Appendf(nil, `{"text":"call %d"}`, id)}}
	if rv != nil {
		rv.Lease(&nd[0])
	}
	ids, err := st.Ingest(context.Background(), c, nd)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if rv != nil {
		rv.Hand(store.LeasedDelivery(ids[0], c, &nd[0]))
	}
	return ids[0]
}

func mustReserve(t *testing.T, d *Dispatcher, sink string) *Reservation {
	t.Helper()
	rv, ok := d.Reserve(sink)
	if !ok {
		t.Fatalf("Reserve(%q) = false, want a reservation", sink)
	}
	return rv
}

func refuseReserve(t *testing.T, d *Dispatcher, sink, why string) {
	t.Helper()
	if rv, ok := d.Reserve(sink); ok {
		rv.Cancel()
		t.Fatalf("Reserve(%q) = true, want false: %s", sink, why)
	}
}

// TestReserveWithinConcurrency: reservations and handed sends together never exceed the sink's
// concurrency; a cancelled reservation and a finished send free their slot; a handed delivery is
// sent with its first attempt and delivered without any claim.
func TestReserveWithinConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &claimCounter{Store: openStore(t)}
		release := make(chan struct{})
		sink := blockingSink(release)
		d, m := newDispatcher(st, Options{})
		refuseReserve(t, d, "s", "the dispatcher is not running")
		d.Apply(map[string]*Target{"s": target("s", sink, 2)})
		start(t, d)
		synctest.Wait()
		refuseReserve(t, d, "other", "the sink is not configured")

		first := mustReserve(t, d, "s")
		second := mustReserve(t, d, "s")
		refuseReserve(t, d, "s", "both slots of concurrency 2 are reserved")
		second.Cancel()
		second.Cancel() // a second call changes nothing
		third := mustReserve(t, d, "s")

		a := ingestOne(t, st, "s", first)
		b := ingestOne(t, st, "s", third)
		synctest.Wait()
		if got := len(sink.received()); got != 2 {
			t.Fatalf("sends under way = %d, want 2 (both handed deliveries)", got)
		}
		refuseReserve(t, d, "s", "two handed sends are under way")
		if n := d.worker("s").inflight.Load(); n != 2 {
			t.Errorf("in flight = %d, want 2", n)
		}

		close(release)
		synctest.Wait()
		for _, id := range []int64{a, b} {
			got := get(t, st, id)
			if got.State != store.Delivered || got.Attempts != 1 || got.AttemptNumber != 1 {
				t.Errorf("handed delivery %d: %s after %d attempts (number %d), want delivered after 1 (number 1)",
					id, got.State, got.Attempts, got.AttemptNumber)
			}
		}
		for _, sd := range sink.received() {
			if sd.Attempt != 1 || sd.Message == nil || sd.IdempotencyKey() != fmt.Sprintf("%d-r-0", sd.CallID) {
				t.Errorf("handed send %+v, want attempt 1 with its message and key <call>-r-0", sd)
			}
		}
		if n := st.claimed.Load(); n != 0 {
			t.Errorf("deliveries claimed = %d, want 0: handed deliveries need no claim", n)
		}
		if got := testutil.ToFloat64(m.Outcomes.WithLabelValues("s", outcomeDelivered)); got != 2 {
			t.Errorf("deliveries_total{outcome=delivered} = %v, want 2", got)
		}
		if n := d.worker("s").inflight.Load(); n != 0 {
			t.Errorf("in flight after the sends = %d, want 0", n)
		}
		mustReserve(t, d, "s").Cancel()
	})
}

// TestReserveRefusedUnlessActive: a paused or held sink gets no reservation; resumed, it does again.
func TestReserveRefusedUnlessActive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		d, _ := newDispatcher(st, Options{})
		d.Apply(map[string]*Target{"s": target("s", &fakeSink{}, 4)})
		start(t, d)
		synctest.Wait()
		ctx := context.Background()

		if _, err := d.SetSinkState(ctx, "s", store.SinkPaused, "cli"); err != nil {
			t.Fatal(err)
		}
		refuseReserve(t, d, "s", "the sink is paused")
		if _, err := d.SetSinkState(ctx, "s", store.SinkActive, "cli"); err != nil {
			t.Fatal(err)
		}
		mustReserve(t, d, "s").Cancel()

		now := time.Now()
		for _, at := range []time.Time{now, now.Add(time.Minute)} {
			if _, err := st.SinkFailed(ctx, "s", "unexpected status 503", time.Minute, at); err != nil {
				t.Fatal(err)
			}
		}
		d.refreshStates(ctx)
		refuseReserve(t, d, "s", "the sink is held")
	})
}

// TestReserveRateLimited: a reservation takes a rate-limit token available now, and a cancelled one
// gives it back; with none left, fresh work is refused and waits in the queue for its token.
func TestReserveRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &claimCounter{Store: openStore(t)}
		sink := &fakeSink{}
		d, _ := newDispatcher(st, Options{})
		tg := target("s", sink, 4)
		tg.Conf.RateLimit = &config.Rate{Events: 1, Per: time.Hour}
		d.Apply(map[string]*Target{"s": tg})
		start(t, d)
		synctest.Wait()

		mustReserve(t, d, "s").Cancel() // the token comes back
		handed := ingestOne(t, st, "s", mustReserve(t, d, "s"))
		refuseReserve(t, d, "s", "the only token of the hour is spent")
		queued := ingestOne(t, st, "s", nil)
		d.Notify("s")
		synctest.Wait()
		if got := get(t, st, handed); got.State != store.Delivered {
			t.Fatalf("handed delivery: %s, want delivered", got.State)
		}
		if got := get(t, st, queued); got.State != store.Pending || got.Attempts != 0 {
			t.Fatalf("queued delivery before the next token: %s after %d attempts, want pending, untouched", got.State, got.Attempts)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := get(t, st, queued); got.State != store.Delivered {
			t.Errorf("queued delivery an hour later: %s, want delivered", got.State)
		}
		if n := st.claimed.Load(); n != 1 {
			t.Errorf("deliveries claimed = %d, want 1 (the queued one)", n)
		}
	})
}

// TestQueueGoesFirst: while the worker waits for a slot to claim queued work, fresh work is not
// handed past it: the slot freed next goes to the worker, and the queued delivery is sent in it.
func TestQueueGoesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		release := make(chan struct{}) // each value lets one send succeed
		sink := blockingSink(release)
		d, _ := newDispatcher(st, Options{})
		d.Apply(map[string]*Target{"s": target("s", sink, 1)})
		start(t, d)
		synctest.Wait()

		handed := ingestOne(t, st, "s", mustReserve(t, d, "s"))
		queued := ingestOne(t, st, "s", nil)
		d.Notify("s")
		synctest.Wait()
		refuseReserve(t, d, "s", "the only slot is busy")
		release <- struct{}{}
		// From here on the freed slot is the worker's, whether or not it has claimed yet.
		refuseReserve(t, d, "s", "the freed slot goes to the queued delivery")
		synctest.Wait()
		if got := sentIDs(sink, 0); len(got) != 2 || got[0] != handed || got[1] != queued {
			t.Fatalf("sent %v, want the handed %d then the queued %d", got, handed, queued)
		}
		release <- struct{}{}
		synctest.Wait()
		if got := get(t, st, queued); got.State != store.Delivered {
			t.Errorf("queued delivery: %s, want delivered", got.State)
		}
		mustReserve(t, d, "s").Cancel()
	})
}

// TestFinishedPassesSlotToWaitingLoop: a slot released while the claim loop waits for one is the
// loop's, not free for a reservation; otherwise it is freed.
func TestFinishedPassesSlotToWaitingLoop(t *testing.T) {
	w := newWorker(New(Options{}), "s", target("s", &fakeSink{}, 1))
	w.inflight.Store(1)
	if got := w.slots(1, 1); got != 0 {
		t.Fatalf("slots with the only one busy = %d, want 0", got)
	}
	w.finished(true)
	if got := w.taken(1, 1); got != 0 {
		t.Errorf("a reservation took the slot passed to the waiting loop")
	}
	if got := w.slots(1, 1); got != 1 {
		t.Fatalf("slots after one was passed on = %d, want 1", got)
	}
	w.finished(true)
	if n := w.inflight.Load(); n != 0 {
		t.Errorf("in flight after the loop's send ended = %d, want 0 (freed: the loop was not waiting)", n)
	}
}

// TestShutdownWaitsForReservations: a dispatcher stopped while a reservation is out returns only
// once it was handed and its send recorded, so a graceful shutdown leaves nothing leased.
func TestShutdownWaitsForReservations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		sink := &fakeSink{}
		d, _ := newDispatcher(st, Options{})
		d.Apply(map[string]*Target{"s": target("s", sink, 2)})
		stop, done := start(t, d)
		synctest.Wait()

		rv := mustReserve(t, d, "s")
		go stop()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Run returned while a reservation was out")
		default:
		}
		refuseReserve(t, d, "s", "the dispatcher is stopping")
		id := ingestOne(t, st, "s", rv)
		<-done
		if got := get(t, st, id); got.State != store.Delivered {
			t.Errorf("delivery handed during shutdown: %s, want delivered before Run returned", got.State)
		}
	})
}
