package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
)

// pausedBacklog gives sink "a" of a fresh store ten pending deliveries, the oldest of them a retry
// due a day later (after any resume), and pauses it; restartAhead then works in batches of three.
// Sink "b" has one pending delivery that a resume of "a" must leave alone. It returns the store,
// when a was paused, a's deliveries and b's.
func pausedBacklog(t *testing.T) (*Store, time.Time, []int64, int64) {
	t.Helper()
	s := newStore(t)
	s.restartBatch = 3
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var a []int64
	for i := range 10 {
		ids, err := s.Ingest(ctx, &store.Call{ID: int64(i + 1), ReceivedAt: t0.Add(time.Duration(i) * time.Second), Raw: []byte(`{}`)},
			[]store.NewDelivery{{Rule: "r", Action: 0, Sink: "a", Message: []byte(`{}`)}})
		if err != nil {
			t.Fatalf("Ingest error = %v, want nil", err)
		}
		a = append(a, ids...)
	}
	ids, err := s.Ingest(ctx, &store.Call{ID: 11, ReceivedAt: t0, Raw: []byte(`{}`)},
		[]store.NewDelivery{{Rule: "r", Action: 0, Sink: "b", Message: []byte(`{}`)}})
	if err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	got, err := s.Claim(ctx, "a", "w", 1, time.Minute, t0.Add(time.Minute))
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim = %d deliveries, %v; want 1, nil", len(got), err)
	}
	o := store.Outcome{State: store.Pending, NextAttemptAt: t0.Add(24 * time.Hour),
		Attempt: store.Attempt{StartedAt: t0.Add(time.Minute), Result: "retry", Error: "boom"}}
	if err := s.Finish(ctx, got[0].ID, "w", o); err != nil {
		t.Fatalf("Finish error = %v, want nil", err)
	}
	paused := t0.Add(time.Hour)
	if _, err := s.SetSinkState(ctx, "a", store.SinkPaused, "test", paused); err != nil {
		t.Fatalf("pause: %v", err)
	}
	return s, paused, a, ids[0]
}

// wantRestarted checks that every delivery of a is due and queued at at, and b's is not.
func wantRestarted(t *testing.T, s *Store, a []int64, b int64, at time.Time) {
	t.Helper()
	for _, id := range a {
		d, err := s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		if !d.QueuedAt.Equal(at) || !d.NextAttemptAt.Equal(at) {
			t.Errorf("delivery %d: queued %s, next %s; want both %s", id, d.QueuedAt, d.NextAttemptAt, at)
		}
	}
	if d, err := s.GetDelivery(t.Context(), b); err != nil || d.QueuedAt.Equal(at) {
		t.Errorf("delivery %d of sink b = %+v, %v; want it not restarted with a", b, d, err)
	}
}

// TestRestartAheadKeepsSinkPaused checks the batches that restart a backlog before a resume: all of
// it, the retry due after the resume included, while the sink stays paused and nothing is claimed.
func TestRestartAheadKeepsSinkPaused(t *testing.T) {
	s, paused, a, b := pausedBacklog(t)
	resumed := paused.Add(time.Hour)
	resume := func(cur store.SinkStatus) store.SinkStatus {
		return store.SetStatus(cur, store.SinkActive, "test", resumed)
	}
	if err := s.restartAhead(t.Context(), "a", resumed, resume); err != nil {
		t.Fatalf("restartAhead error = %v, want nil", err)
	}
	wantRestarted(t, s, a, b, resumed)
	st, err := s.SinkStatuses(t.Context())
	if err != nil || len(st) != 1 || st[0].State != store.SinkPaused {
		t.Fatalf("SinkStatuses = %+v, %v; want a still paused", st, err)
	}
	if got, err := s.Claim(t.Context(), "a", "w2", 10, time.Minute, resumed); err != nil || len(got) != 0 {
		t.Fatalf("Claim(paused a) = %d deliveries, %v; want none", len(got), err)
	}
}

// TestResumeAfterInterruptedRestart checks the state a crash between two batches leaves: the sink
// is still paused with part of its backlog restarted early, and the next resume restarts it all.
func TestResumeAfterInterruptedRestart(t *testing.T) {
	s, paused, a, b := pausedBacklog(t)
	ctx := context.Background()
	crashed := paused.Add(time.Minute)
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := restartPending(ctx, tx, "a", crashed, s.restartBatch)
		return err
	}); err != nil {
		t.Fatalf("restart one batch: %v", err)
	}
	resumed := crashed.Add(time.Hour)
	ch, err := s.SetSinkState(ctx, "a", store.SinkActive, "test", resumed)
	if err != nil || ch.From != store.SinkPaused || ch.To != store.SinkActive {
		t.Fatalf("resume = %+v, %v; want paused -> active", ch, err)
	}
	wantRestarted(t, s, a, b, resumed)
	got, err := s.Claim(ctx, "a", "w2", 20, time.Minute, resumed)
	if err != nil || len(got) != len(a) {
		t.Fatalf("Claim after resume = %d deliveries, %v; want %d", len(got), err, len(a))
	}
}
