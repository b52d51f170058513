package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// requeueFixture is a store with deliveries in every state: for call 1 a dead letter from ingest and
// one that died after an attempt, a delivered one and one in flight; for call 2 one dead letter.
type requeueFixture struct {
	deadOnArrival, diedLater, delivered, inFlight, otherCallDead int64
}

func newRequeueFixture(t *testing.T, s store.Store) requeueFixture {
	t.Helper()
	a := mustIngest(t, s, newCall(1, t0), dead("r", 0, "a"), pending("r", 1, "b"), pending("r", 2, "c"), pending("r", 3, "d"))
	b := mustIngest(t, s, newCall(2, t0), dead("r", 0, "a"))
	mustClaim(t, s, "b", "w", 1, time.Minute, t0)
	mustFinish(t, s, a[1], "w", outcome(store.Dead, t0, time.Time{}))
	mustClaim(t, s, "c", "w", 1, time.Minute, t0)
	mustFinish(t, s, a[2], "w", outcome(store.Delivered, t0, time.Time{}))
	mustClaim(t, s, "d", "w", 1, time.Minute, t0)
	return requeueFixture{deadOnArrival: a[0], diedLater: a[1], delivered: a[2], inFlight: a[3], otherCallDead: b[0]}
}

func testRequeueErrors(t *testing.T, s store.Store) {
	f := newRequeueFixture(t, s)
	tests := []struct {
		name    string
		sel     store.Selector
		want    int
		wantErr error
	}{
		{name: "in flight is left alone", sel: store.Selector{DeliveryID: f.inFlight}, want: 0},
		{name: "unknown delivery", sel: store.Selector{DeliveryID: f.otherCallDead + 1000}, wantErr: store.ErrNotFound},
		{name: "call without dead letters", sel: store.Selector{CallID: 99}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.Requeue(t.Context(), tt.sel, at(time.Hour))
			if !errors.Is(err, tt.wantErr) || n != tt.want {
				t.Errorf("Requeue(%+v) = %d, %v; want %d, %v", tt.sel, n, err, tt.want, tt.wantErr)
			}
		})
	}
	for _, sel := range []store.Selector{{}, {AllDead: true, CallID: 1}, {CallID: 1, DeliveryID: f.diedLater}} {
		if n, err := s.Requeue(t.Context(), sel, at(time.Hour)); err == nil {
			t.Errorf("Requeue(%+v) = %d, nil; want an error: exactly one field must be set", sel, n)
		}
	}
	if d := mustGet(t, s, f.inFlight); d.State != store.InFlight || d.LeaseOwner != "w" {
		t.Errorf("in-flight delivery after Requeue: state %s owner %q, want in_flight \"w\"", d.State, d.LeaseOwner)
	}
}

// requeueSelectors checks each selector on a fresh fixture.
func requeueSelectors(t *testing.T, open func(t *testing.T) store.Store) {
	type pick func(f requeueFixture) (store.Selector, []int64)
	tests := []struct {
		name string
		pick pick
	}{
		{name: "all dead", pick: func(f requeueFixture) (store.Selector, []int64) {
			return store.Selector{AllDead: true}, []int64{f.deadOnArrival, f.diedLater, f.otherCallDead}
		}},
		{name: "dead of one call", pick: func(f requeueFixture) (store.Selector, []int64) {
			return store.Selector{CallID: 1}, []int64{f.deadOnArrival, f.diedLater}
		}},
		{name: "one dead delivery", pick: func(f requeueFixture) (store.Selector, []int64) {
			return store.Selector{DeliveryID: f.diedLater}, []int64{f.diedLater}
		}},
		{name: "one delivered delivery", pick: func(f requeueFixture) (store.Selector, []int64) {
			return store.Selector{DeliveryID: f.delivered}, []int64{f.delivered}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			f := newRequeueFixture(t, s)
			sel, want := tt.pick(f)
			now := at(time.Hour)
			n, err := s.Requeue(t.Context(), sel, now)
			if err != nil || n != len(want) {
				t.Fatalf("Requeue(%+v) = %d, %v; want %d, nil", sel, n, err, len(want))
			}
			for _, id := range []int64{f.deadOnArrival, f.diedLater, f.delivered, f.inFlight, f.otherCallDead} {
				d := mustGet(t, s, id)
				if !slices.Contains(want, id) {
					if d.State == store.Pending {
						t.Errorf("delivery %d was requeued, want it left %s", id, d.State)
					}
					continue
				}
				if d.State != store.Pending || d.Attempts != 0 || !d.QueuedAt.Equal(now) || !d.NextAttemptAt.Equal(now) ||
					d.LeaseOwner != "" || !d.ReceivedAt.Equal(t0) {
					t.Errorf("requeued delivery %d: state %s attempts %d queued %v next %v owner %q received %v; want pending, 0, %v, %v, none, %v",
						id, d.State, d.Attempts, d.QueuedAt, d.NextAttemptAt, d.LeaseOwner, d.ReceivedAt, now, now, t0)
				}
			}
			var claimed []int64
			for _, sink := range []string{"a", "b", "c"} {
				for _, d := range mustClaim(t, s, sink, "w2", 10, time.Minute, now) {
					if d.Attempts != 1 {
						t.Errorf("requeued delivery %d claimed at attempt %d, want 1", d.ID, d.Attempts)
					}
					claimed = append(claimed, d.ID)
				}
			}
			if got := sortedIDs(claimed); !slices.Equal(got, sortedIDs(want)) {
				t.Errorf("claimable after Requeue = %v, want %v", got, sortedIDs(want))
			}
		})
	}
}

func testPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Call 1: one delivery finished (now, by the wall clock), one still pending.
	a := mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"), pending("r", 1, "b"))
	mustClaim(t, s, "a", "w", 1, time.Minute, t0)
	mustFinish(t, s, a[0], "w", outcome(store.Delivered, t0, time.Time{}))
	// Call 2: a dead letter from ingest, last updated at t0. Call 3: no deliveries.
	b := mustIngest(t, s, newCall(2, t0), dead("r", 0, "a"))
	mustIngest(t, s, newCall(3, t0))
	// Call 4: received after the first cutoff.
	mustIngest(t, s, newCall(4, at(2*time.Hour)))
	// Call 5: a delivery that died now (by the wall clock).
	e := mustIngest(t, s, newCall(5, t0), pending("r", 0, "c"))
	mustClaim(t, s, "c", "w", 1, time.Minute, t0)
	mustFinish(t, s, e[0], "w", outcome(store.Dead, t0, time.Time{}))

	later := time.Now().Add(time.Hour)
	steps := []struct {
		name       string
		r          store.Retention
		want       store.Purged
		wantKept   []int64 // calls
		wantLeft   []int64 // deliveries
		noAttempts []int64
	}{
		{name: "dead letters kept with their calls", r: store.Retention{Finished: at(time.Hour)},
			want: store.Purged{Calls: 1}, wantKept: []int64{1, 2, 4, 5}, wantLeft: []int64{a[0], a[1], b[0], e[0]}},
		{name: "old dead letter, then its call", r: store.Retention{Finished: at(time.Hour), Dead: at(time.Hour)},
			want: store.Purged{Calls: 1, Dead: 1}, wantKept: []int64{1, 4, 5}, wantLeft: []int64{a[0], a[1], e[0]}, noAttempts: []int64{b[0]}},
		{name: "young dead letter keeps an old call", r: store.Retention{Finished: later, Dead: at(time.Hour)},
			want: store.Purged{Calls: 1, Deliveries: 1}, wantKept: []int64{1, 5}, wantLeft: []int64{a[1], e[0]}, noAttempts: []int64{a[0]}},
		{name: "every dead letter", r: store.Retention{Finished: later, Dead: later},
			want: store.Purged{Calls: 1, Dead: 1}, wantKept: []int64{1}, wantLeft: []int64{a[1]}, noAttempts: []int64{e[0]}},
		{name: "nothing more", r: store.Retention{Finished: later, Dead: later},
			want: store.Purged{}, wantKept: []int64{1}, wantLeft: []int64{a[1]}},
	}
	for _, st := range steps {
		p, err := s.Purge(ctx, st.r)
		if err != nil || p != st.want {
			t.Fatalf("%s: Purge = %+v, %v; want %+v, nil", st.name, p, err, st.want)
		}
		cs, err := s.ListCalls(ctx, store.CallFilter{})
		if err != nil {
			t.Fatalf("%s: ListCalls error = %v, want nil", st.name, err)
		}
		var kept []int64
		for _, c := range cs {
			kept = append(kept, c.ID)
		}
		if got := sortedIDs(kept); !slices.Equal(got, st.wantKept) {
			t.Errorf("%s: calls left %v, want %v", st.name, got, st.wantKept)
		}
		if got := ids(listAll(t, s, store.DeliveryFilter{})); !slices.Equal(got, st.wantLeft) {
			t.Errorf("%s: deliveries left %v, want %v", st.name, got, st.wantLeft)
		}
		for _, id := range st.noAttempts {
			if as, err := s.Attempts(ctx, id); err != nil || len(as) != 0 {
				t.Errorf("%s: Attempts(%d) of a purged delivery = %d, %v; want none", st.name, id, len(as), err)
			}
		}
	}
	if got := mustClaim(t, s, "b", "w", 10, time.Minute, t0); !slices.Equal(ids(got), a[1:]) {
		t.Errorf("pending delivery after Purge claimable = %v, want %v", ids(got), a[1:])
	}
}

func testStats(t *testing.T, s store.Store) {
	if got, err := s.Stats(t.Context()); err != nil || len(got) != 0 {
		t.Errorf("Stats on an empty store = %+v, %v; want none", got, err)
	}
	a := make([]int64, 4)
	for i := range a {
		a[i] = mustIngest(t, s, newCall(int64(i+1), at(time.Duration(i)*time.Second)), pending("r", 0, "a"))[0]
	}
	mustIngest(t, s, newCall(10, t0), dead("r", 0, "b"), pending("r", 1, "c"))
	mustClaim(t, s, "a", "w", 2, time.Minute, at(10*time.Second)) // a[0], a[1] in flight
	mustFinish(t, s, a[0], "w", outcome(store.Pending, t0, at(time.Hour)))
	mustClaim(t, s, "c", "w", 1, time.Minute, t0)
	c := listAll(t, s, store.DeliveryFilter{Sink: "c"})
	mustFinish(t, s, c[0].ID, "w", outcome(store.Delivered, t0, time.Time{}))

	got, err := s.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats error = %v, want nil", err)
	}
	slices.SortFunc(got, func(x, y store.SinkStats) int {
		switch {
		case x.Sink < y.Sink:
			return -1
		case x.Sink > y.Sink:
			return 1
		}
		return 0
	})
	want := []store.SinkStats{
		{Sink: "a", Pending: 2, Retrying: 2, OldestPending: t0},
		{Sink: "b", Dead: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Sink != w.Sink || g.Pending != w.Pending || g.Retrying != w.Retrying || g.Dead != w.Dead || !g.OldestPending.Equal(w.OldestPending) {
			t.Errorf("Stats[%d] = %+v, want %+v", i, g, w)
		}
	}
}
