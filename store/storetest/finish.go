package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// testConcurrentFinish finishes many claimed deliveries at once (stores may batch them), a tenth by
// the wrong owner, and checks that every caller gets its own outcome and every delivery its attempt.
func testConcurrentFinish(t *testing.T, s store.Store) {
	const n = 300
	ds := make([]store.NewDelivery, n)
	for i := range ds {
		ds[i] = pending("r", i, "a")
	}
	ids, err := s.Ingest(t.Context(), newCall(1, t0), ds)
	if err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	if got, err := s.Claim(t.Context(), "a", "w", n, time.Hour, t0); err != nil || len(got) != n {
		t.Fatalf("Claim = %d deliveries, %v; want %d, nil", len(got), err, n)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		owner := "w"
		if i%10 == 7 {
			owner = "thief"
		}
		wg.Go(func() {
			errs[i] = s.Finish(context.Background(), id, owner, store.Outcome{State: store.Delivered,
				Attempt: store.Attempt{StartedAt: at(time.Second), Duration: time.Millisecond, Result: "success", StatusCode: 200 + i%100}})
		})
	}
	wg.Wait()
	for i, id := range ids {
		wantLost := i%10 == 7
		if wantLost != errors.Is(errs[i], store.ErrLeaseLost) || (!wantLost && errs[i] != nil) {
			t.Errorf("Finish(%d) error = %v, want lease lost: %t", id, errs[i], wantLost)
			continue
		}
		d, err := s.GetDelivery(t.Context(), id)
		if err != nil {
			t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
		}
		wantState, wantStatus, wantTries := store.Delivered, 200+i%100, 1
		if wantLost {
			wantState, wantStatus, wantTries = store.InFlight, 0, 0
		}
		if d.State != wantState || d.LastStatus != wantStatus {
			t.Errorf("delivery %d = %s status %d, want %s status %d", id, d.State, d.LastStatus, wantState, wantStatus)
		}
		as, err := s.Attempts(t.Context(), id)
		if err != nil || len(as) != wantTries {
			t.Errorf("Attempts(%d) = %d, %v; want %d, nil", id, len(as), err, wantTries)
		}
	}
}
