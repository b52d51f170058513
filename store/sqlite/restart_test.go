package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// restartFixture is a store whose sink "a" has a backlog of ten pending deliveries (one of them a
// retry due after the resume) and is paused, with restartAhead working in batches of three. Sink
// "b" has one pending delivery that a resume of "a" must leave alone.
type restartFixture struct {
	s       *Store
	paused  time.Time
	a       []int64 // pending deliveries of a
	b       int64
	retried int64 // the one of a due after the resume
}

func newRestartFixture(t *testing.T) *restartFixture {
	t.Helper()
	s, _ := openTemp(t, Options{})
	s.restartBatch = 3
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f := &restartFixture{s: s, paused: t0.Add(time.Hour)}
	for i := range 10 {
		ids, err := s.Ingest(ctx, &store.Call{ID: int64(i + 1), ReceivedAt: t0.Add(time.Duration(i) * time.Second), Raw: []byte(`{}`)},
			[]store.NewDelivery{{Rule: "r", Action: 0, Sink: "a", Message: []byte(`{}`)}})
		if err != nil {
			t.Fatalf("Ingest error = %v, want nil", err)
		}
		f.a = append(f.a, ids...)
	}
	ids, err := s.Ingest(ctx, &store.Call{ID: 11, ReceivedAt: t0, Raw: []byte(`{}`)},
		[]store.NewDelivery{{Rule: "r", Action: 0, Sink: "b", Message: []byte(`{}`)}})
	if err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	f.b = ids[0]
	// The oldest of a fails once and is due again a day later, long after the resume.
	got, err := s.Claim(ctx, "a", "w", 1, time.Minute, t0.Add(time.Minute))
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim = %d deliveries, %v; want 1, nil", len(got), err)
	}
	f.retried = got[0].ID
	o := store.Outcome{State: store.Pending, NextAttemptAt: t0.Add(24 * time.Hour),
		Attempt: store.Attempt{StartedAt: t0.Add(time.Minute), Result: "retry", Error: "boom"}}
	if err := s.Finish(ctx, f.retried, "w", o); err != nil {
		t.Fatalf("Finish error = %v, want nil", err)
	}
	if _, err := s.SetSinkState(ctx, "a", store.SinkPaused, "test", f.paused); err != nil {
		t.Fatalf("pause: %v", err)
	}
	return f
}

// wantRestarted checks that every pending delivery of a is due and queued at at, and b untouched.
func (f *restartFixture) wantRestarted(t *testing.T, at time.Time) {
	t.Helper()
	for _, id := range f.a {
		d, err := f.s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		if !d.QueuedAt.Equal(at) || !d.NextAttemptAt.Equal(at) {
			t.Errorf("delivery %d: queued %s, next %s; want both %s", id, d.QueuedAt, d.NextAttemptAt, at)
		}
	}
	d, err := f.s.GetDelivery(t.Context(), f.b)
	if err != nil {
		t.Fatalf("GetDelivery(%d) error = %v, want nil", f.b, err)
	}
	if d.QueuedAt.Equal(at) {
		t.Errorf("delivery %d of sink b was restarted with a", f.b)
	}
}

// TestRestartAheadKeepsSinkPaused checks the batches that restart a backlog before a resume: all of
// it, the retry due after the resume included, while the sink stays paused and nothing is claimed.
func TestRestartAheadKeepsSinkPaused(t *testing.T) {
	f := newRestartFixture(t)
	resumed := f.paused.Add(time.Hour)
	resume := func(cur store.SinkStatus) store.SinkStatus {
		return store.SetStatus(cur, store.SinkActive, "test", resumed)
	}
	if err := f.s.restartAhead(t.Context(), "a", resumed, resume); err != nil {
		t.Fatalf("restartAhead error = %v, want nil", err)
	}
	f.wantRestarted(t, resumed)
	st, err := f.s.SinkStatuses(t.Context())
	if err != nil || len(st) != 1 || st[0].State != store.SinkPaused {
		t.Fatalf("SinkStatuses = %+v, %v; want a still paused", st, err)
	}
	if got, err := f.s.Claim(t.Context(), "a", "w2", 10, time.Minute, resumed); err != nil || len(got) != 0 {
		t.Fatalf("Claim(paused a) = %d deliveries, %v; want none", len(got), err)
	}
}

// TestRestartAheadNothingForActiveSink checks that a change that does not resume restarts nothing.
func TestRestartAheadNothingForActiveSink(t *testing.T) {
	f := newRestartFixture(t)
	later := f.paused.Add(time.Hour)
	pause := func(cur store.SinkStatus) store.SinkStatus {
		return store.SetStatus(cur, store.SinkPaused, "test", later)
	}
	if err := f.s.restartAhead(t.Context(), "a", later, pause); err != nil {
		t.Fatalf("restartAhead error = %v, want nil", err)
	}
	d, err := f.s.GetDelivery(t.Context(), f.a[1])
	if err != nil || d.QueuedAt.Equal(later) {
		t.Fatalf("delivery %d = %+v, %v; want it not restarted", f.a[1], d, err)
	}
}

// TestResumeAfterInterruptedRestart checks the state a crash between two batches leaves: the sink
// is still paused with part of its backlog restarted early, and the next resume restarts it all.
func TestResumeAfterInterruptedRestart(t *testing.T) {
	f := newRestartFixture(t)
	crashed := f.paused.Add(time.Minute)
	ctx := context.Background()
	// One batch of an earlier resume, committed before the process died.
	err := f.s.relaxed(ctx, func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		if _, err := restartPending(ctx, tx, "a", nanos(crashed), f.s.restartBatch); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		t.Fatalf("restart one batch: %v", err)
	}
	if got, err := f.s.Claim(ctx, "a", "w2", 10, time.Minute, crashed); err != nil || len(got) != 0 {
		t.Fatalf("Claim(paused a, part restarted) = %d deliveries, %v; want none", len(got), err)
	}
	resumed := crashed.Add(time.Hour)
	ch, err := f.s.SetSinkState(ctx, "a", store.SinkActive, "test", resumed)
	if err != nil || ch.From != store.SinkPaused || ch.To != store.SinkActive {
		t.Fatalf("resume = %+v, %v; want paused -> active", ch, err)
	}
	f.wantRestarted(t, resumed)
	got, err := f.s.Claim(ctx, "a", "w2", 20, time.Minute, resumed)
	if err != nil || len(got) != len(f.a) {
		t.Fatalf("Claim after resume = %d deliveries, %v; want %d", len(got), err, len(f.a))
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID < got[i-1].ID {
			t.Fatalf("Claim after resume = %v, want oldest first", got)
		}
	}
}

// restartBatchAt runs one batch of restartAhead at n, as its own transaction, and returns how many
// deliveries it restarted.
func (f *restartFixture) restartBatchAt(t *testing.T, n time.Time) int {
	t.Helper()
	ctx := t.Context()
	var k int
	err := f.s.relaxed(ctx, func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		if k, err = restartPending(ctx, tx, "a", nanos(n), f.s.restartBatch); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		t.Fatalf("restart one batch at %s: %v", n, err)
	}
	return k
}

// TestRestartAlternatingResumesEnd runs the batches of two resumes at different times one after the
// other, as two concurrent resumes (a double click, the console and the CLI at once) may: each must
// still come to a short batch, having restarted no delivery twice, rather than restart the other's
// deliveries back at its own time for ever.
func TestRestartAlternatingResumesEnd(t *testing.T) {
	f := newRestartFixture(t)
	first, second := f.paused.Add(time.Hour), f.paused.Add(2*time.Hour)
	// Each resume restarts each of the ten deliveries at most once, in batches of three, and needs
	// one short batch to know it is done.
	limit := len(f.a)/f.s.restartBatch + 1
	batches := map[time.Time]int{}
	running := []time.Time{first, second}
	for len(running) > 0 {
		var still []time.Time
		for _, n := range running {
			batches[n]++
			if batches[n] > limit {
				t.Fatalf("resume at %s: still a full batch after %d batches; want a short one by then", n, limit)
			}
			if f.restartBatchAt(t, n) == f.s.restartBatch {
				still = append(still, n)
			}
		}
		running = still
	}
	for _, id := range f.a {
		d, err := f.s.GetDelivery(t.Context(), id)
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
	f := newRestartFixture(t)
	s, paused := f.s, f.paused
	backlog := len(f.a)
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
	f := newRestartFixture(t)
	f.s.restartBatches = 1
	resumed := f.paused.Add(time.Hour)
	resume := func(cur store.SinkStatus) store.SinkStatus {
		return store.SetStatus(cur, store.SinkActive, "test", resumed)
	}
	if err := f.s.restartAhead(t.Context(), "a", resumed, resume); err != nil {
		t.Fatalf("restartAhead error = %v, want nil", err)
	}
	restarted := 0
	for _, id := range f.a {
		d, err := f.s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		if d.QueuedAt.Equal(resumed) {
			restarted++
		}
	}
	if restarted != f.s.restartBatch {
		t.Fatalf("restartAhead with one batch allowed restarted %d deliveries, want %d", restarted, f.s.restartBatch)
	}
	if _, err := f.s.SetSinkState(t.Context(), "a", store.SinkActive, "test", resumed); err != nil {
		t.Fatalf("resume: %v", err)
	}
	f.wantRestarted(t, resumed)
}

// TestResumeCancelledInBatchKeepsWriterSettings cancels a resume inside one of restartAhead's
// transactions: the writer that serves the next caller must have every setting of the store's DSN
// (synchronous = FULL restored by relaxed, or a new connection; see TestRelaxedDropsConnInTx), and
// the next resume must restart the whole backlog.
func TestResumeCancelledInBatchKeepsWriterSettings(t *testing.T) {
	f := newRestartFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	resumed := f.paused.Add(time.Hour)
	calls := 0
	_, err := f.s.changeSink(ctx, "a", resumed, func(cur store.SinkStatus) store.SinkStatus {
		// The first call is restartAhead's look before its batches; the second is in a batch.
		if calls++; calls == 2 {
			cancel()
		}
		return store.SetStatus(cur, store.SinkActive, "test", resumed)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("resume cancelled in a batch: error = %v, want context.Canceled", err)
	}
	for _, p := range []struct{ pragma, want string }{
		{"synchronous", "2"}, // FULL
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"temp_store", "2"}, // MEMORY
	} {
		var got string
		if err := f.s.write.QueryRowContext(t.Context(), `PRAGMA `+p.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.pragma, err)
		}
		if got != p.want {
			t.Errorf("writer after the cancelled resume: PRAGMA %s = %s, want %s", p.pragma, got, p.want)
		}
	}
	if _, err := f.s.SetSinkState(t.Context(), "a", store.SinkActive, "test", resumed); err != nil {
		t.Fatalf("resume again: %v", err)
	}
	f.wantRestarted(t, resumed)
}
