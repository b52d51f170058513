package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// Backlog is a paused sink "a" with ten pending deliveries, the oldest of them a retry due a day
// after it was paused (after any resume), and a sink "b" with one pending delivery that a resume of
// "a" must leave alone. Stores' own tests use it for the batches that restart a backlog ahead of a
// resume.
type Backlog struct {
	// Paused is when sink a was paused.
	Paused time.Time
	// A holds the ids of a's deliveries, oldest first.
	A []int64
	// B is the id of b's delivery.
	B int64
}

// PausedBacklog builds a Backlog in s, a new, empty store.
func PausedBacklog(t *testing.T, s store.Store) Backlog {
	t.Helper()
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b := Backlog{Paused: t0.Add(time.Hour)}
	for i := range 10 {
		ids, err := s.Ingest(ctx, &store.Call{ID: int64(i + 1), ReceivedAt: t0.Add(time.Duration(i) * time.Second), Raw: []byte(`{}`)},
			[]store.NewDelivery{{Rule: "r", Action: 0, Sink: "a", Message: []byte(`{}`)}})
		if err != nil {
			t.Fatalf("Ingest error = %v, want nil", err)
		}
		b.A = append(b.A, ids...)
	}
	ids, err := s.Ingest(ctx, &store.Call{ID: 11, ReceivedAt: t0, Raw: []byte(`{}`)},
		[]store.NewDelivery{{Rule: "r", Action: 0, Sink: "b", Message: []byte(`{}`)}})
	if err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	b.B = ids[0]
	got, err := s.Claim(ctx, "a", "w", 1, time.Minute, t0.Add(time.Minute))
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim = %d deliveries, %v; want 1, nil", len(got), err)
	}
	o := store.Outcome{State: store.Pending, NextAttemptAt: t0.Add(24 * time.Hour),
		Attempt: store.Attempt{StartedAt: t0.Add(time.Minute), Result: "retry", Error: "boom"}}
	if err := s.Finish(ctx, got[0].ID, "w", o); err != nil {
		t.Fatalf("Finish error = %v, want nil", err)
	}
	if _, err := s.SetSinkState(ctx, "a", store.SinkPaused, "test", b.Paused); err != nil {
		t.Fatalf("pause: %v", err)
	}
	return b
}

// WantRestarted checks that every delivery of a is due and queued at at, and b's is not.
func (b Backlog) WantRestarted(t *testing.T, s store.Store, at time.Time) {
	t.Helper()
	for _, id := range b.A {
		d, err := s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		if !d.QueuedAt.Equal(at) || !d.NextAttemptAt.Equal(at) {
			t.Errorf("delivery %d: queued %s, next %s; want both %s", id, d.QueuedAt, d.NextAttemptAt, at)
		}
	}
	if d, err := s.GetDelivery(t.Context(), b.B); err != nil || d.QueuedAt.Equal(at) {
		t.Errorf("delivery %d of sink b = %+v, %v; want it not restarted with a", b.B, d, err)
	}
}

// AlternatingResumesEnd runs the batches of two resumes of b's sink a at different times one after
// the other, as two concurrent resumes (a double click, the console and the CLI, two replicas'
// probes) may: each must still come to a short batch, having restarted no delivery twice, rather
// than restart the other's deliveries back at its own time for ever. batch is how many deliveries
// one batch of the store's restart ahead of a resume restarts; batchAt runs one such batch of sink
// a at n, as its own transaction, and returns how many deliveries it restarted.
func AlternatingResumesEnd(t *testing.T, s store.Store, b Backlog, batch int, batchAt func(n time.Time) int) {
	t.Helper()
	first, second := b.Paused.Add(time.Hour), b.Paused.Add(2*time.Hour)
	// Each resume restarts each delivery at most once, in batches, and needs one short batch to
	// know it is done.
	limit := len(b.A)/batch + 1
	batches := map[time.Time]int{}
	running := []time.Time{first, second}
	for len(running) > 0 {
		var still []time.Time
		for _, n := range running {
			batches[n]++
			if batches[n] > limit {
				t.Fatalf("resume at %s: still a full batch after %d batches; want a short one by then", n, limit)
			}
			if batchAt(n) == batch {
				still = append(still, n)
			}
		}
		running = still
	}
	for _, id := range b.A {
		d, err := s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		if at := d.NextAttemptAt; !d.QueuedAt.Equal(at) || (!at.Equal(first) && !at.Equal(second)) {
			t.Errorf("delivery %d: queued %s, next %s; want both the time of one of the resumes", id, d.QueuedAt, at)
		}
	}
}

// ChangeSink applies fn to the state of sink at now, in the store's transaction that changes a
// sink's state, with the restart of its backlog ahead of a resume that calls fn once per batch.
type ChangeSink func(ctx context.Context, sink string, now time.Time, fn func(store.SinkStatus) store.SinkStatus) (store.SinkChange, error)

// ConcurrentResumesEnd resumes b's paused sink a four times at once, at four different times,
// through change: every call must return, the sink be active and its whole backlog claimable.
// Each batch of the restart ahead calls the state function once, so the calls count the batches;
// past what four resumes need when each restarts each delivery at most once, the test cancels them
// all instead of waiting for ever. batch is how many deliveries one batch restarts; the backlog is
// grown to 300 deliveries, for the resumes' batches to interleave.
func ConcurrentResumesEnd(t *testing.T, s store.Store, b Backlog, batch int, change ChangeSink) {
	t.Helper()
	backlog := len(b.A)
	extra := make([]store.NewDelivery, 290)
	for i := range extra {
		extra[i] = store.NewDelivery{Rule: "r", Action: i, Sink: "a", Message: []byte(`{}`)}
	}
	if _, err := s.Ingest(t.Context(), &store.Call{ID: 100, ReceivedAt: b.Paused.Add(time.Minute), Raw: []byte(`{}`)}, extra); err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	backlog += len(extra)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs := make([]error, 4)
	// Each resume: one look before its batches, at most backlog/batch+1 batches, the last one.
	bound := int64(len(errs) * (backlog/batch + 3))
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		now := b.Paused.Add(time.Duration(i+1) * time.Hour)
		wg.Go(func() {
			<-start
			_, errs[i] = change(ctx, "a", now, func(cur store.SinkStatus) store.SinkStatus {
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
	latest := b.Paused.Add(time.Duration(len(errs)) * time.Hour)
	got, err := s.Claim(t.Context(), "a", "w2", backlog+1, time.Minute, latest)
	if err != nil || len(got) != backlog {
		t.Fatalf("Claim after the resumes = %d deliveries, %v; want %d", len(got), err, backlog)
	}
}
