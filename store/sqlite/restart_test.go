package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

// restartFixture is a store holding storetest.PausedBacklog, with restartAhead working in batches
// of three.
type restartFixture struct {
	s *Store
	storetest.Backlog
}

func newRestartFixture(t *testing.T) *restartFixture {
	t.Helper()
	s, _ := openTemp(t, Options{})
	s.restartBatch = 3
	return &restartFixture{s: s, Backlog: storetest.PausedBacklog(t, s)}
}

// restartAhead runs restartAhead for a change of sink a to state to at at, and fails t on its error.
func (f *restartFixture) restartAhead(t *testing.T, to store.SinkState, at time.Time) {
	t.Helper()
	change := func(cur store.SinkStatus) store.SinkStatus { return store.SetStatus(cur, to, "test", at) }
	if err := f.s.restartAhead(t.Context(), "a", at, change); err != nil {
		t.Fatalf("restartAhead error = %v, want nil", err)
	}
}

// TestRestartAheadKeepsSinkPaused checks the batches that restart a backlog before a resume: all of
// it, the retry due after the resume included, while the sink stays paused and nothing is claimed.
func TestRestartAheadKeepsSinkPaused(t *testing.T) {
	f := newRestartFixture(t)
	resumed := f.Paused.Add(time.Hour)
	f.restartAhead(t, store.SinkActive, resumed)
	f.WantRestarted(t, f.s, resumed)
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
	later := f.Paused.Add(time.Hour)
	f.restartAhead(t, store.SinkPaused, later)
	d, err := f.s.GetDelivery(t.Context(), f.A[1])
	if err != nil || d.QueuedAt.Equal(later) {
		t.Fatalf("delivery %d = %+v, %v; want it not restarted", f.A[1], d, err)
	}
}

// TestResumeAfterInterruptedRestart checks the state a crash between two batches leaves: the sink
// is still paused with part of its backlog restarted early, and the next resume restarts it all.
func TestResumeAfterInterruptedRestart(t *testing.T) {
	f := newRestartFixture(t)
	crashed := f.Paused.Add(time.Minute)
	ctx := context.Background()
	// One batch of an earlier resume, committed before the process died.
	f.restartBatchAt(t, crashed)
	if got, err := f.s.Claim(ctx, "a", "w2", 10, time.Minute, crashed); err != nil || len(got) != 0 {
		t.Fatalf("Claim(paused a, part restarted) = %d deliveries, %v; want none", len(got), err)
	}
	resumed := crashed.Add(time.Hour)
	ch, err := f.s.SetSinkState(ctx, "a", store.SinkActive, "test", resumed)
	if err != nil || ch.From != store.SinkPaused || ch.To != store.SinkActive {
		t.Fatalf("resume = %+v, %v; want paused -> active", ch, err)
	}
	f.WantRestarted(t, f.s, resumed)
	got, err := f.s.Claim(ctx, "a", "w2", 20, time.Minute, resumed)
	if err != nil || len(got) != len(f.A) {
		t.Fatalf("Claim after resume = %d deliveries, %v; want %d", len(got), err, len(f.A))
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

// TestRestartAlternatingResumesEnd runs storetest.AlternatingResumesEnd with restartAhead's
// batches.
func TestRestartAlternatingResumesEnd(t *testing.T) {
	f := newRestartFixture(t)
	storetest.AlternatingResumesEnd(t, f.s, f.Backlog, f.s.restartBatch, func(n time.Time) int { return f.restartBatchAt(t, n) })
}

// TestConcurrentResumesEnd runs storetest.ConcurrentResumesEnd through changeSink, whose state
// function restartAhead calls once per batch.
func TestConcurrentResumesEnd(t *testing.T) {
	f := newRestartFixture(t)
	storetest.ConcurrentResumesEnd(t, f.s, f.Backlog, f.s.restartBatch, f.s.changeSink)
}

// TestRestartAheadBounded checks the safety net: restartAhead stops after s.restartBatches batches,
// and the transaction that makes the sink active restarts the rest.
func TestRestartAheadBounded(t *testing.T) {
	f := newRestartFixture(t)
	f.s.restartBatches = 1
	resumed := f.Paused.Add(time.Hour)
	f.restartAhead(t, store.SinkActive, resumed)
	restarted := 0
	for _, id := range f.A {
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
	f.WantRestarted(t, f.s, resumed)
}

// TestResumeCancelledInBatchKeepsWriterSettings cancels a resume inside one of restartAhead's
// transactions: the writer that serves the next caller must have every setting of the store's DSN
// (synchronous = FULL restored by relaxed, or a new connection; see TestRelaxedDropsConnInTx), and
// the next resume must restart the whole backlog.
func TestResumeCancelledInBatchKeepsWriterSettings(t *testing.T) {
	f := newRestartFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	resumed := f.Paused.Add(time.Hour)
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
	wantWriterSettings(t, f.s, "writer after the cancelled resume")
	if _, err := f.s.SetSinkState(t.Context(), "a", store.SinkActive, "test", resumed); err != nil {
		t.Fatalf("resume again: %v", err)
	}
	f.WantRestarted(t, f.s, resumed)
}
