package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

// pausedBacklog is a fresh store holding storetest.PausedBacklog, with restartAhead working in
// batches of three.
func pausedBacklog(t *testing.T) (*Store, storetest.Backlog) {
	t.Helper()
	s := newStore(t)
	s.restartBatch = 3
	return s, storetest.PausedBacklog(t, s)
}

// runRestartAhead runs s.restartAhead for a change of sink a to state to at at, and fails t on its
// error.
func runRestartAhead(t *testing.T, s *Store, to store.SinkState, at time.Time) {
	t.Helper()
	change := func(cur store.SinkStatus) store.SinkStatus { return store.SetStatus(cur, to, "test", at) }
	if err := s.restartAhead(t.Context(), "a", at, change); err != nil {
		t.Fatalf("restartAhead error = %v, want nil", err)
	}
}

// TestRestartAheadKeepsSinkPaused checks the batches that restart a backlog before a resume: all of
// it, the retry due after the resume included, while the sink stays paused and nothing is claimed.
func TestRestartAheadKeepsSinkPaused(t *testing.T) {
	s, b := pausedBacklog(t)
	resumed := b.Paused.Add(time.Hour)
	runRestartAhead(t, s, store.SinkActive, resumed)
	b.WantRestarted(t, s, resumed)
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
	s, b := pausedBacklog(t)
	ctx := context.Background()
	crashed := b.Paused.Add(time.Minute)
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
	b.WantRestarted(t, s, resumed)
	got, err := s.Claim(ctx, "a", "w2", 20, time.Minute, resumed)
	if err != nil || len(got) != len(b.A) {
		t.Fatalf("Claim after resume = %d deliveries, %v; want %d", len(got), err, len(b.A))
	}
}

// restartBatchAt runs one batch of restartAhead at n, as its own transaction, and returns how many
// deliveries it restarted.
func restartBatchAt(t *testing.T, s *Store, n time.Time) int {
	t.Helper()
	var k int
	if err := pgx.BeginFunc(t.Context(), s.pool, func(tx pgx.Tx) error {
		var err error
		k, err = restartPending(t.Context(), tx, "a", n, s.restartBatch)
		return err
	}); err != nil {
		t.Fatalf("restart one batch at %s: %v", n, err)
	}
	return k
}

// TestRestartAlternatingResumesEnd runs storetest.AlternatingResumesEnd with restartAhead's
// batches.
func TestRestartAlternatingResumesEnd(t *testing.T) {
	s, b := pausedBacklog(t)
	storetest.AlternatingResumesEnd(t, s, b, s.restartBatch, func(n time.Time) int { return restartBatchAt(t, s, n) })
}

// TestConcurrentResumesEnd runs storetest.ConcurrentResumesEnd through changeSink, whose state
// function restartAhead calls once per batch.
func TestConcurrentResumesEnd(t *testing.T) {
	s, b := pausedBacklog(t)
	storetest.ConcurrentResumesEnd(t, s, b, s.restartBatch, s.changeSink)
}

// TestRestartAheadBounded checks the safety net: restartAhead stops after s.restartBatches batches,
// and the transaction that makes the sink active restarts the rest.
func TestRestartAheadBounded(t *testing.T) {
	s, b := pausedBacklog(t)
	s.restartBatches = 1
	resumed := b.Paused.Add(time.Hour)
	runRestartAhead(t, s, store.SinkActive, resumed)
	restarted := 0
	for _, id := range b.A {
		d, err := s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		if d.QueuedAt.Equal(resumed) {
			restarted++
		}
	}
	if restarted != s.restartBatch {
		t.Fatalf("restartAhead with one batch allowed restarted %d deliveries, want %d", restarted, s.restartBatch)
	}
	if _, err := s.SetSinkState(t.Context(), "a", store.SinkActive, "test", resumed); err != nil {
		t.Fatalf("resume: %v", err)
	}
	b.WantRestarted(t, s, resumed)
}
