package postgres

import (
	"context"
	"sync"
	"sync/atomic"
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

// TestRestartAlternatingResumesEnd runs the batches of two resumes at different times one after the
// other, as two concurrent resumes (a double click, two replicas' probes) may: each must still come
// to a short batch, having restarted no delivery twice, rather than restart the other's deliveries
// back at its own time for ever.
func TestRestartAlternatingResumesEnd(t *testing.T) {
	s, paused, a, _ := pausedBacklog(t)
	first, second := paused.Add(time.Hour), paused.Add(2*time.Hour)
	// Each resume restarts each of the ten deliveries at most once, in batches of three, and needs
	// one short batch to know it is done.
	limit := len(a)/s.restartBatch + 1
	batches := map[time.Time]int{}
	running := []time.Time{first, second}
	for len(running) > 0 {
		var still []time.Time
		for _, n := range running {
			batches[n]++
			if batches[n] > limit {
				t.Fatalf("resume at %s: still a full batch after %d batches; want a short one by then", n, limit)
			}
			if restartBatchAt(t, s, n) == s.restartBatch {
				still = append(still, n)
			}
		}
		running = still
	}
	for _, id := range a {
		d, err := s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		if at := d.NextAttemptAt; !d.QueuedAt.Equal(at) || (!at.Equal(first) && !at.Equal(second)) {
			t.Errorf("delivery %d: queued %s, next %s; want both the time of one of the resumes", id, d.QueuedAt, at)
		}
	}
}

// TestConcurrentResumesEnd resumes one paused sink four times at once, at four different times:
// every call must return, the sink be active and its whole backlog claimable. Each batch of
// restartAhead calls the state function once, so the calls count the batches; past what four
// resumes need when each restarts each delivery at most once, the test cancels them all instead of
// waiting for ever. The backlog is a hundred batches long, for the resumes' batches to interleave.
func TestConcurrentResumesEnd(t *testing.T) {
	s, paused, a, _ := pausedBacklog(t)
	backlog := len(a)
	extra := make([]store.NewDelivery, 290)
	for i := range extra {
		extra[i] = store.NewDelivery{Rule: "r", Action: i, Sink: "a", Message: []byte(`{}`)}
	}
	if _, err := s.Ingest(t.Context(), &store.Call{ID: 100, ReceivedAt: paused.Add(time.Minute), Raw: []byte(`{}`)}, extra); err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	backlog += len(extra)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs := make([]error, 4)
	// Each resume: one look before its batches, at most backlog/batch+1 batches, the last one.
	bound := int64(len(errs) * (backlog/s.restartBatch + 3))
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		now := paused.Add(time.Duration(i+1) * time.Hour)
		wg.Go(func() {
			<-start
			_, errs[i] = s.changeSink(ctx, "a", now, func(cur store.SinkStatus) store.SinkStatus {
				if calls.Add(1) > bound {
					cancel()
				}
				return store.SetStatus(cur, store.SinkActive, "test", now)
			})
		})
	}
	close(start)
	wg.Wait()
	if n := calls.Load(); n > bound {
		t.Fatalf("%d resumes called the state function %d times; want at most %d", len(errs), n, bound)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("resume %d error = %v, want nil", i, err)
		}
	}
	st, err := s.SinkStatuses(t.Context())
	if err != nil || len(st) != 1 || st[0].State != store.SinkActive {
		t.Fatalf("SinkStatuses = %+v, %v; want a active", st, err)
	}
	latest := paused.Add(time.Duration(len(errs)) * time.Hour)
	got, err := s.Claim(t.Context(), "a", "w2", backlog+1, time.Minute, latest)
	if err != nil || len(got) != backlog {
		t.Fatalf("Claim after the resumes = %d deliveries, %v; want %d", len(got), err, backlog)
	}
}

// TestRestartAheadBounded checks the safety net: restartAhead stops after s.restartBatches batches,
// and the transaction that makes the sink active restarts the rest.
func TestRestartAheadBounded(t *testing.T) {
	s, paused, a, b := pausedBacklog(t)
	s.restartBatches = 1
	resumed := paused.Add(time.Hour)
	resume := func(cur store.SinkStatus) store.SinkStatus {
		return store.SetStatus(cur, store.SinkActive, "test", resumed)
	}
	if err := s.restartAhead(t.Context(), "a", resumed, resume); err != nil {
		t.Fatalf("restartAhead error = %v, want nil", err)
	}
	restarted := 0
	for _, id := range a {
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
	wantRestarted(t, s, a, b, resumed)
}
