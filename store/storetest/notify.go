package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// runNotify runs the conformance tests of notifications and filtered replay.
func runNotify(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"DeathsFlushAsOneNotification", testDeathsFlush},
		{"FlushBeforeCutoffWaits", testFlushWaits},
		{"ReplayedBeforeFlushIsLeftOut", testFlushSkipsReplayed},
		{"FlushWithoutNotificationForgets", testFlushForgets},
		{"FlushRenderErrorKeepsDeaths", testFlushRenderError},
		{"ConcurrentFlushesMakeOneNotification", testConcurrentFlush},
		{"DeadNotificationIsNotNotified", testDeadNotification},
		{"NotificationsInListsAndPurge", testNotificationLists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
	t.Run("RequeueDeadFilter", func(t *testing.T) { requeueDeadFilter(t, open) })
}

// deaths ingests call 1 with a dead letter (sink a) and a pending delivery (sink b) that then dies
// after an attempt; it returns their ids, oldest death first.
func deaths(t *testing.T, s store.Store) []int64 {
	t.Helper()
	ids := mustIngest(t, s, newCall(1, t0), dead("r", 0, "a"), pending("r", 1, "b"))
	mustClaim(t, s, "b", "w", 1, time.Minute, t0)
	mustFinish(t, s, ids[1], "w", outcome(store.Dead, t0, time.Time{}))
	return ids
}

// flush flushes with a cutoff in the far future and a render that queues one notification to sink
// ops, recording the groups it was given.
func flush(t *testing.T, s store.Store, groups *[]store.DeadGroup) int {
	t.Helper()
	n, err := s.FlushDead(t.Context(), time.Now().Add(time.Hour), at(2*time.Hour), func(g store.DeadGroup) (*store.Notification, error) {
		*groups = append(*groups, g)
		return &store.Notification{Kind: "dead_letters", Sink: "ops", Message: []byte(`{"text":"dead"}`)}, nil
	})
	if err != nil {
		t.Fatalf("FlushDead error = %v, want nil", err)
	}
	return n
}

func testDeathsFlush(t *testing.T, s store.Store) {
	died := deaths(t, s)
	oldest, ok, err := s.OldestDeath(t.Context())
	if err != nil || !ok || !oldest.Equal(t0) {
		t.Fatalf("OldestDeath = %v, %t, %v; want %v (the dead letter created at ingest), true, nil", oldest, ok, err, t0)
	}
	var groups []store.DeadGroup
	if n := flush(t, s, &groups); n != 2 {
		t.Errorf("FlushDead = %d, want 2", n)
	}
	if len(groups) != 1 || groups[0].Total != 2 || !slices.Equal(ids(groups[0].Deliveries), died) {
		t.Fatalf("render got %+v, want one group of 2 listing %v", groups, died)
	}
	if d := groups[0].Deliveries[1]; d.LastReason != "client_error" || d.Sink != "b" || d.CallID != 1 {
		t.Errorf("listed delivery: reason %q sink %q call %d, want client_error, b, 1", d.LastReason, d.Sink, d.CallID)
	}
	if _, ok, _ := s.OldestDeath(t.Context()); ok {
		t.Errorf("OldestDeath after a flush reports a death waiting, want none")
	}
	got := mustClaim(t, s, "ops", "w", 10, time.Minute, at(2*time.Hour))
	if len(got) != 1 {
		t.Fatalf("Claim(ops) = %d deliveries, want the notification", len(got))
	}
	n := got[0]
	if n.CallID != 0 || n.Rule != "notify:dead_letters" || !n.IsNotification() || n.NotificationKind() != "dead_letters" ||
		string(n.Message) != `{"text":"dead"}` || !n.QueuedAt.Equal(at(2*time.Hour)) {
		t.Errorf("notification = call %d rule %q message %s queued %v; want call 0, notify:dead_letters, the rendered message, %v",
			n.CallID, n.Rule, n.Message, n.QueuedAt, at(2*time.Hour))
	}
	if again := flush(t, s, &groups); again != 0 || len(groups) != 1 {
		t.Errorf("second FlushDead = %d with %d renders, want 0 and no new render", again, len(groups)-1)
	}
}

func testFlushWaits(t *testing.T, s store.Store) {
	deaths(t, s)
	called := false
	n, err := s.FlushDead(t.Context(), t0.Add(-time.Second), at(time.Hour), func(store.DeadGroup) (*store.Notification, error) {
		called = true
		return nil, nil
	})
	if err != nil || n != 0 || called {
		t.Errorf("FlushDead(cutoff before every death) = %d, %v, render called %t; want 0, nil, false", n, err, called)
	}
	if _, ok, _ := s.OldestDeath(t.Context()); !ok {
		t.Errorf("deaths forgotten by a flush that was not due")
	}
}

func testFlushSkipsReplayed(t *testing.T, s store.Store) {
	died := deaths(t, s)
	if n, err := s.Requeue(t.Context(), store.Selector{DeliveryID: died[0]}, at(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Requeue = %d, %v; want 1, nil", n, err)
	}
	var groups []store.DeadGroup
	if n := flush(t, s, &groups); n != 1 || len(groups) != 1 || !slices.Equal(ids(groups[0].Deliveries), died[1:]) {
		t.Errorf("FlushDead = %d with %+v, want 1 listing only %v (the other was replayed)", n, groups, died[1:])
	}
}

func testFlushForgets(t *testing.T, s store.Store) {
	deaths(t, s)
	n, err := s.FlushDead(t.Context(), time.Now().Add(time.Hour), at(time.Hour), func(store.DeadGroup) (*store.Notification, error) {
		return nil, nil
	})
	if err != nil || n != 2 {
		t.Fatalf("FlushDead = %d, %v; want 2, nil", n, err)
	}
	if _, ok, _ := s.OldestDeath(t.Context()); ok {
		t.Errorf("deaths still waiting after a flush that queued nothing, want them forgotten")
	}
	if got := listAll(t, s, store.DeliveryFilter{State: store.Pending}); len(got) != 0 {
		t.Errorf("pending deliveries = %v, want none", ids(got))
	}
}

func testFlushRenderError(t *testing.T, s store.Store) {
	deaths(t, s)
	boom := errors.New("boom")
	if _, err := s.FlushDead(t.Context(), time.Now().Add(time.Hour), at(time.Hour), func(store.DeadGroup) (*store.Notification, error) {
		return nil, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("FlushDead error = %v, want the render's error", err)
	}
	var groups []store.DeadGroup
	if n := flush(t, s, &groups); n != 2 {
		t.Errorf("FlushDead after a failed one = %d, want 2 (nothing was forgotten)", n)
	}
}

func testConcurrentFlush(t *testing.T, s store.Store) {
	for i := range int64(10) {
		mustIngest(t, s, newCall(i+1, t0), dead("r", 0, "a"))
	}
	var mu sync.Mutex
	var groups []store.DeadGroup
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, err := s.FlushDead(t.Context(), time.Now().Add(time.Hour), at(time.Hour), func(g store.DeadGroup) (*store.Notification, error) {
				mu.Lock()
				defer mu.Unlock()
				groups = append(groups, g)
				return &store.Notification{Kind: "dead_letters", Sink: "ops", Message: []byte(`{}`)}, nil
			})
			if err != nil {
				t.Errorf("FlushDead error = %v, want nil", err)
			}
		})
	}
	wg.Wait()
	if got := listAll(t, s, store.DeliveryFilter{Sink: "ops"}); len(got) != 1 || len(groups) != 1 || groups[0].Total != 10 {
		t.Errorf("after 4 concurrent flushes: %d notifications from %d renders, want 1 notification of 10", len(got), len(groups))
	}
}

func testDeadNotification(t *testing.T, s store.Store) {
	id, err := s.AddNotification(t.Context(), store.Notification{Kind: "sink_down", Sink: "ops", Message: []byte(`{}`)}, t0)
	if err != nil {
		t.Fatalf("AddNotification error = %v, want nil", err)
	}
	got := mustClaim(t, s, "ops", "w", 1, time.Minute, t0)
	if len(got) != 1 || got[0].ID != id || got[0].NotificationKind() != "sink_down" {
		t.Fatalf("Claim(ops) = %v, want notification %d", ids(got), id)
	}
	mustFinish(t, s, id, "w", outcome(store.Dead, t0, time.Time{}))
	if at, ok, err := s.OldestDeath(t.Context()); ok || err != nil {
		t.Errorf("OldestDeath after a notification died = %v, %t, %v; want none: a dead notification is not notified", at, ok, err)
	}
	if _, err := s.AddNotification(t.Context(), store.Notification{Sink: "ops"}, t0); err == nil {
		t.Errorf("AddNotification without a kind: error nil, want one")
	}
}

func testNotificationLists(t *testing.T, s store.Store) {
	mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"))
	id, err := s.AddNotification(t.Context(), store.Notification{Kind: "sink_down", Sink: "ops", Message: []byte(`{}`)}, t0)
	if err != nil {
		t.Fatalf("AddNotification error = %v, want nil", err)
	}
	if got := listAll(t, s, store.DeliveryFilter{Sink: "ops"}); len(got) != 1 || got[0].ID != id || got[0].CallID != 0 {
		t.Errorf("ListDeliveries(sink ops) = %v, want the notification %d with call 0", ids(got), id)
	}
	if cs, err := s.ListCalls(t.Context(), store.CallFilter{}); err != nil || len(cs) != 1 {
		t.Errorf("ListCalls = %d calls, %v; want 1, nil (a notification has no call)", len(cs), err)
	}
	mustClaim(t, s, "ops", "w", 1, time.Minute, t0)
	mustFinish(t, s, id, "w", outcome(store.Delivered, t0, time.Time{}))
	p, err := s.Purge(t.Context(), store.Retention{Finished: time.Now().Add(time.Hour)})
	if err != nil || p.Deliveries != 1 {
		t.Errorf("Purge = %+v, %v; want the delivered notification purged", p, err)
	}
	if _, err := s.GetDelivery(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDelivery(purged notification) error = %v, want ErrNotFound", err)
	}
}

// deadFixture holds dead deliveries that differ in one way each, all died at ingest (so their death
// time is their call's arrival): by sink, by rule, by reason and by time.
type deadFixture struct{ early, crm, slack, otherRule, otherReason, alive int64 }

func newDeadFixture(t *testing.T, s store.Store) deadFixture {
	t.Helper()
	var f deadFixture
	f.early = mustIngest(t, s, newCall(1, at(-3*time.Hour)), dead("hot", 0, "crm"))[0]
	ds := mustIngest(t, s, newCall(2, t0), dead("hot", 0, "crm"), dead("hot", 1, "slack"), dead("cold", 0, "crm"), pending("hot", 2, "crm"))
	f.crm, f.slack, f.otherRule, f.alive = ds[0], ds[1], ds[2], ds[3]
	c := newCall(3, t0)
	d := dead("hot", 0, "crm")
	d.Reason = "client_error"
	f.otherReason = mustIngest(t, s, c, d)[0]
	return f
}

func requeueDeadFilter(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name   string
		filter store.DeadFilter
		want   func(f deadFixture) []int64
	}{
		{"everything", store.DeadFilter{}, func(f deadFixture) []int64 {
			return []int64{f.early, f.crm, f.slack, f.otherRule, f.otherReason}
		}},
		{"one sink", store.DeadFilter{Sink: "crm"}, func(f deadFixture) []int64 {
			return []int64{f.early, f.crm, f.otherRule, f.otherReason}
		}},
		{"sink and rule", store.DeadFilter{Sink: "crm", Rule: "hot"}, func(f deadFixture) []int64 {
			return []int64{f.early, f.crm, f.otherReason}
		}},
		{"reason", store.DeadFilter{Reason: "client_error"}, func(f deadFixture) []int64 { return []int64{f.otherReason} }},
		{"since", store.DeadFilter{Since: at(-time.Hour)}, func(f deadFixture) []int64 {
			return []int64{f.crm, f.slack, f.otherRule, f.otherReason}
		}},
		{"until", store.DeadFilter{Until: at(-time.Hour)}, func(f deadFixture) []int64 { return []int64{f.early} }},
		{"since and until, inclusive", store.DeadFilter{Since: t0, Until: t0, Sink: "slack"}, func(f deadFixture) []int64 {
			return []int64{f.slack}
		}},
		{"nothing matches", store.DeadFilter{Sink: "nowhere"}, func(deadFixture) []int64 { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			f := newDeadFixture(t, s)
			want := tt.want(f)
			listed := listAll(t, s, store.DeliveryFilter{Dead: &tt.filter})
			if got := ids(listed); !slices.Equal(got, want) {
				t.Errorf("ListDeliveries(dead %+v) = %v, want %v", tt.filter, got, want)
			}
			for _, d := range listed {
				if !tt.filter.Matches(d) {
					t.Errorf("DeadFilter.Matches(listed delivery %d) = false, want true", d.ID)
				}
			}
			n, err := s.Requeue(t.Context(), store.Selector{Dead: &tt.filter}, at(time.Hour))
			if err != nil || n != len(want) {
				t.Fatalf("Requeue(dead %+v) = %d, %v; want %d, nil", tt.filter, n, err, len(want))
			}
			for _, id := range []int64{f.early, f.crm, f.slack, f.otherRule, f.otherReason, f.alive} {
				d := mustGet(t, s, id)
				requeued := d.State == store.Pending && d.QueuedAt.Equal(at(time.Hour))
				if requeued != slices.Contains(want, id) {
					t.Errorf("delivery %d: state %s queued %v; requeued %t, want %t", id, d.State, d.QueuedAt, requeued, !requeued)
				}
			}
		})
	}
}
