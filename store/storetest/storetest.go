// Package storetest is the conformance suite for store.Store: every implementation runs it from its own
// tests, so the embedded and the PostgreSQL queue keep exactly the same behaviour.
//
// The suite passes explicit times to Claim, Requeue and Ingest (through Call.ReceivedAt) instead of
// reading the clock, so it does not depend on timing. Times are whole milliseconds, which every
// backend stores exactly. Only the time Finish records as UpdatedAt is the wall clock, and Purge
// tests allow for that.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// Run runs the conformance suite. open must return a new, empty store for each call, and arrange
// (with t.Cleanup) for it to be closed and its data removed when t ends; Run may close it earlier
// itself, so a second Close must return nil.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"IngestThenRead", testIngestThenRead},
		{"IngestZeroReceivedAt", testIngestZeroReceivedAt},
		{"IngestCanceledContext", testIngestCanceled},
		{"HostileBytes", testHostileBytes},
		{"ListCalls", testListCalls},
		{"ListDeliveries", testListDeliveries},
		{"DuplicateSequential", testDuplicateSequential},
		{"DuplicateConcurrent", testDuplicateConcurrent},
		{"DuplicateContent", testDuplicateContent},
		{"ConcurrentIngest", testConcurrentIngest},
		{"ClaimOnlyDueInOrder", testClaimDueOrdered},
		{"ClaimConcurrent", testClaimConcurrent},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeasedIngest", testLeasedIngest},
		{"LeasedIngestInactiveSink", testLeasedIngestInactiveSink},
		{"WatchSkipsLeased", testWatchSkipsLeased},
		{"FinishOutcomes", testFinishOutcomes},
		{"FinishErrors", testFinishErrors},
		{"ConcurrentFinish", testConcurrentFinish},
		{"NextDue", testNextDue},
		{"QueuedSinks", testQueuedSinks},
		{"Watch", testWatch},
		{"RequeueErrors", testRequeueErrors},
		{"AttemptNumbers", testAttemptNumbers},
		{"Purge", testPurge},
		{"Stats", testStats},
		{"Close", testClose},
		{"SinkPauseResume", testSinkPauseResume},
		{"SinkHold", testSinkHold},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
	t.Run("Requeue", func(t *testing.T) { requeueSelectors(t, open) })
	t.Run("Notify", func(t *testing.T) { runNotify(t, open) })
}

// t0 is the suite's reference time: in the past, so that the wall-clock UpdatedAt of Finish is
// always after it.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// newCall returns a call received at received.
func newCall(id int64, received time.Time, matched ...string) *store.Call {
	return &store.Call{
		ID:         id,
		ReceivedAt: received,
		Status:     "completed",
		Matched:    matched,
		Raw:        fmt.Appendf(nil, `{"id":%d,"status":"completed"}`, id),
	}
}

// pending returns a delivery to create for sink.
func pending(rule string, action int, sink string) store.NewDelivery {
	return store.NewDelivery{Rule: rule, Action: action, Sink: sink, Message: fmt.Appendf(nil, `{"text":"%s/%d"}`, rule, action)}
}

// dead returns a delivery to create as a dead letter.
func dead(rule string, action int, sink string) store.NewDelivery {
	d := pending(rule, action, sink)
	d.Dead, d.Reason, d.Error = true, "template", "render text: unknown name"
	return d
}

func mustIngest(t *testing.T, s store.Store, c *store.Call, ds ...store.NewDelivery) []int64 {
	t.Helper()
	ids, err := s.Ingest(t.Context(), c, ds)
	if err != nil {
		t.Fatalf("Ingest(call %d) error = %v, want nil", c.ID, err)
	}
	if len(ids) != len(ds) {
		t.Fatalf("Ingest(call %d) returned %d ids, want %d", c.ID, len(ids), len(ds))
	}
	return ids
}

func mustClaim(t *testing.T, s store.Store, sink, owner string, limit int, lease time.Duration, now time.Time) []*store.Delivery {
	t.Helper()
	ds, err := s.Claim(t.Context(), sink, owner, limit, lease, now)
	if err != nil {
		t.Fatalf("Claim(%q, %q) error = %v, want nil", sink, owner, err)
	}
	return ds
}

func mustGet(t *testing.T, s store.Store, id int64) *store.Delivery {
	t.Helper()
	d, err := s.GetDelivery(t.Context(), id)
	if err != nil {
		t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
	}
	return d
}

func mustFinish(t *testing.T, s store.Store, id int64, owner string, o store.Outcome) {
	t.Helper()
	if err := s.Finish(t.Context(), id, owner, o); err != nil {
		t.Fatalf("Finish(%d, %q, %s) error = %v, want nil", id, owner, o.State, err)
	}
}

// outcome returns an outcome to state whose attempt started at started.
func outcome(state store.State, started time.Time, next time.Time) store.Outcome {
	o := store.Outcome{State: state, NextAttemptAt: next, Attempt: store.Attempt{StartedAt: started, Duration: 250 * time.Millisecond}}
	switch state {
	case store.Delivered:
		o.Attempt.Result, o.Attempt.StatusCode = "success", 200
	case store.Pending:
		o.Attempt.Result, o.Attempt.StatusCode, o.Attempt.Reason, o.Attempt.Error = "retry", 503, "server_error", "unexpected status 503"
	case store.Dead:
		o.Attempt.Result, o.Attempt.StatusCode, o.Attempt.Reason, o.Attempt.Error = "permanent", 400, "client_error", "unexpected status 400"
	}
	return o
}

func ids(ds []*store.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// listAll pages through every delivery matching f.
func listAll(t *testing.T, s store.Store, f store.DeliveryFilter) []*store.Delivery {
	t.Helper()
	var all []*store.Delivery
	f.Limit = 100
	for {
		page, err := s.ListDeliveries(t.Context(), f)
		if err != nil {
			t.Fatalf("ListDeliveries(%+v) error = %v, want nil", f, err)
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all
		}
		f.AfterID = page[len(page)-1].ID
	}
}

func sortedIDs(v []int64) []int64 {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}

func testClose(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() error = %v, want nil", err)
	}
	if _, err := s.Ingest(ctx, newCall(2, t0), nil); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ingest after Close error = %v, want ErrClosed", err)
	}
	if _, err := s.GetCall(ctx, 1); !errors.Is(err, store.ErrClosed) {
		t.Errorf("GetCall after Close error = %v, want ErrClosed", err)
	}
	if _, err := s.Claim(ctx, "a", "w", 1, time.Minute, t0); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Claim after Close error = %v, want ErrClosed", err)
	}
}

// RunReopen checks that everything a store acknowledged survives Close and a reopen of the same
// data. open returns a new, empty store and a function that opens the same data again (the suite
// closes the first store before calling it); both must be closed by cleanups registered on t.
func RunReopen(t *testing.T, open func(t *testing.T) (store.Store, func(t *testing.T) store.Store)) {
	s, reopen := open(t)
	ctx := context.Background()
	dids := mustIngest(t, s, newCall(7, t0, "hot"), pending("hot", 0, "a"), pending("hot", 1, "b"), dead("hot", 2, "c"))
	claimed := mustClaim(t, s, "a", "w1", 10, time.Minute, at(time.Second))
	if got := ids(claimed); !slices.Equal(got, dids[:1]) {
		t.Fatalf("Claim(a) = %v, want %v", got, dids[:1])
	}
	mustFinish(t, s, dids[0], "w1", outcome(store.Delivered, at(time.Second), time.Time{}))
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v, want nil", err)
	}

	s = reopen(t)
	c, err := s.GetCall(ctx, 7)
	if err != nil {
		t.Fatalf("GetCall(7) after reopen error = %v, want nil", err)
	}
	if string(c.Raw) != string(newCall(7, t0).Raw) || !slices.Equal(c.Matched, []string{"hot"}) {
		t.Errorf("GetCall(7) after reopen = raw %q matched %v, want raw %q matched [hot]", c.Raw, c.Matched, newCall(7, t0).Raw)
	}
	wantStates := []store.State{store.Delivered, store.Pending, store.Dead}
	for i, id := range dids {
		if d := mustGet(t, s, id); d.State != wantStates[i] {
			t.Errorf("delivery %d after reopen: state %s, want %s", id, d.State, wantStates[i])
		}
	}
	if as, err := s.Attempts(ctx, dids[0]); err != nil || len(as) != 1 {
		t.Errorf("Attempts(%d) after reopen = %d attempts, %v; want 1, nil", dids[0], len(as), err)
	}
	if got := ids(mustClaim(t, s, "b", "w2", 10, time.Minute, at(time.Second))); !slices.Equal(got, dids[1:2]) {
		t.Errorf("Claim(b) after reopen = %v, want %v", got, dids[1:2])
	}
	if _, err := s.Ingest(ctx, newCall(7, t0), nil); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("Ingest(call 7) again after reopen error = %v, want ErrDuplicate", err)
	}
}
