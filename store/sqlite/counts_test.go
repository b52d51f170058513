package sqlite

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// queueCounts returns queue_counts' non-zero rows, or with recount the same counted from the
// deliveries themselves.
func queueCounts(t *testing.T, s *Store, recount bool) map[[3]string]int {
	t.Helper()
	q := `SELECT sink, state, attempts, n FROM queue_counts WHERE n != 0`
	if recount {
		q = `SELECT sink, state, attempts, count(*) FROM deliveries WHERE state != 'delivered' GROUP BY sink, state, attempts`
	}
	rows, err := s.read.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := map[[3]string]int{}
	for rows.Next() {
		var k [3]string
		var n int
		if err := rows.Scan(&k[0], &k[1], &k[2], &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestQueueCountsFollowEveryChange checks that the triggers keep queue_counts equal to a count of
// the deliveries through every way a delivery changes: ingest (pending and dead), claim, finish
// (retry, delivered, dead), an expired lease claimed again, requeue and purge.
func TestQueueCountsFollowEveryChange(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	check := func(step string) {
		t.Helper()
		got, want := queueCounts(t, s, false), queueCounts(t, s, true)
		if !maps.Equal(got, want) {
			t.Fatalf("after %s: queue_counts = %v, counted %v", step, got, want)
		}
	}
	for i := range 6 {
		ds := []store.NewDelivery{
			{Rule: "r", Action: 0, Sink: "a", Message: []byte(`{}`)},
			{Rule: "r", Action: 1, Sink: "b", Message: []byte(`{}`)},
			{Rule: "r", Action: 2, Sink: "b", Dead: true, Error: "render"},
		}
		if _, err := s.Ingest(ctx, &store.Call{ID: int64(i + 1), ReceivedAt: t0, Raw: []byte(`{}`)}, ds); err != nil {
			t.Fatalf("Ingest error = %v, want nil", err)
		}
	}
	check("ingest")
	got, err := s.Claim(ctx, "a", "w", 4, time.Minute, t0)
	if err != nil || len(got) != 4 {
		t.Fatalf("Claim = %d, %v; want 4", len(got), err)
	}
	check("claim")
	attempt := store.Attempt{StartedAt: t0, Result: "retry"}
	for i, st := range []store.State{store.Pending, store.Delivered, store.Dead} {
		o := store.Outcome{State: st, Attempt: attempt}
		if st == store.Pending {
			o.NextAttemptAt = t0.Add(time.Second)
		}
		if err := s.Finish(ctx, got[i].ID, "w", o); err != nil {
			t.Fatalf("Finish(%s) error = %v, want nil", st, err)
		}
		check("finish " + string(st))
	}
	if again, err := s.Claim(ctx, "a", "w2", 10, time.Minute, t0.Add(time.Hour)); err != nil || len(again) != 4 {
		t.Fatalf("Claim after the lease = %d, %v; want 4 (2 pending, 1 retry, 1 expired lease)", len(again), err)
	}
	check("claim again")
	if _, err := s.Requeue(ctx, store.Selector{AllDead: true}, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("Requeue error = %v, want nil", err)
	}
	check("requeue")
	if _, err := s.SetSinkState(ctx, "b", store.SinkPaused, "test", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetSinkState(ctx, "b", store.SinkActive, "test", t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("resume")
	if err := s.Finish(ctx, got[3].ID, "w", store.Outcome{State: store.Dead, Attempt: attempt}); err == nil {
		t.Fatal("Finish with a lost lease error = nil, want one")
	}
	check("finish refused")
	b, err := s.Claim(ctx, "b", "w3", 1, time.Minute, t0.Add(4*time.Hour))
	if err != nil || len(b) != 1 {
		t.Fatalf("Claim(b) = %d, %v; want 1", len(b), err)
	}
	if err := s.Finish(ctx, b[0].ID, "w3", store.Outcome{State: store.Dead, Attempt: attempt}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Purge(ctx, store.Retention{Finished: t0.Add(100 * time.Hour), Dead: t0.Add(100 * time.Hour)}); err != nil {
		t.Fatalf("Purge error = %v, want nil", err)
	}
	check("purge")
	if len(queueCounts(t, s, false)) == 0 {
		t.Fatal("queue_counts is empty after the steps, want the pending deliveries counted")
	}
}
