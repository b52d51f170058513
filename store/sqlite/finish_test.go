package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

// TestFinishBatchIsolatesFailures commits one Finish batch by hand (as the batcher would) and checks
// that each call that cannot finish fails alone while the others commit.
func TestFinishBatchIsolatesFailures(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ids := storetest.ClaimAll(t, s, 5)
	// A real SQLite error for one delivery: the trigger aborts its attempt row after its update ran.
	if _, err := s.write.Exec(fmt.Sprintf(`CREATE TRIGGER fail_attempt BEFORE INSERT ON delivery_attempts
		WHEN NEW.delivery_id = %d BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`, ids[3])); err != nil {
		t.Fatal(err)
	}
	retry := store.Outcome{State: store.Pending, NextAttemptAt: time.Unix(2000, 0), Attempt: store.Attempt{
		StartedAt: time.Unix(1001, 0), Result: "retry", StatusCode: 503, Reason: "server_error", Error: "unexpected status 503"}}
	item := func(id int64, owner string, o store.Outcome) *store.BatchItem[finishReq] {
		r := finishReq{id: id, owner: owner, o: o}
		if o.State == store.Pending {
			r.due.Int64, r.due.Valid = nanos(o.NextAttemptAt), true
		}
		return &store.BatchItem[finishReq]{Req: r}
	}
	batch := []*store.BatchItem[finishReq]{
		item(ids[0], "w", storetest.Delivered(200)),
		item(ids[1], "other", storetest.Delivered(201)),
		item(ids[0], "w", storetest.Delivered(202)),
		item(ids[0]+1000, "w", storetest.Delivered(203)),
		item(ids[3], "w", storetest.Delivered(204)),
		item(ids[2], "w", retry),
	}
	if err := s.finishBatch(batch); err != nil {
		t.Fatalf("finishBatch error = %v, want nil", err)
	}
	tests := []struct {
		name      string
		it        *store.BatchItem[finishReq]
		wantErr   error
		wantState store.State
		wantTries int // attempt rows of the delivery after the batch
	}{
		{name: "finished", it: batch[0], wantState: store.Delivered, wantTries: 1},
		{name: "wrong owner", it: batch[1], wantErr: store.ErrLeaseLost, wantState: store.InFlight},
		{name: "second finish in the same batch", it: batch[2], wantErr: store.ErrLeaseLost, wantState: store.Delivered, wantTries: 1},
		{name: "unknown delivery", it: batch[3], wantErr: store.ErrNotFound},
		{name: "failing attempt row", it: batch[4], wantErr: errAny, wantState: store.InFlight},
		{name: "retry after a failure", it: batch[5], wantState: store.Pending, wantTries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.it.Req.id
			switch {
			case tt.wantErr == errAny && tt.it.Err == nil:
				t.Errorf("Finish(%d) error = nil, want an error", id)
			case tt.wantErr != errAny && !errors.Is(tt.it.Err, tt.wantErr):
				t.Errorf("Finish(%d) error = %v, want %v", id, tt.it.Err, tt.wantErr)
			}
			if tt.wantState == "" {
				return
			}
			d, err := s.GetDelivery(t.Context(), id)
			if err != nil {
				t.Fatalf("GetDelivery(%d) error = %v, want nil", id, err)
			}
			if d.State != tt.wantState {
				t.Errorf("delivery %d state = %s, want %s", id, d.State, tt.wantState)
			}
			as, err := s.Attempts(t.Context(), id)
			if err != nil || len(as) != tt.wantTries {
				t.Errorf("Attempts(%d) = %d, %v; want %d, nil", id, len(as), err, tt.wantTries)
			}
		})
	}
	if d, err := s.GetDelivery(t.Context(), ids[0]); err != nil || d.LastStatus != 200 {
		t.Errorf("delivery %d last status = %v, %v; want 200 from the first finish, nil", ids[0], d, err)
	}
	if d, err := s.GetDelivery(t.Context(), ids[2]); err != nil || !d.NextAttemptAt.Equal(time.Unix(2000, 0)) || d.LastReason != "server_error" {
		t.Errorf("retried delivery = %+v, %v; want next attempt at 2000s, reason server_error", d, err)
	}
	if due, ok, err := s.NextDue(t.Context(), "a"); err != nil || !ok || !due.Equal(time.Unix(2000, 0)) {
		t.Errorf("NextDue = %v, %v, %v; want the retry at 2000s (the other leases expire later)", due, ok, err)
	}
}

// TestFinishCanceledBeforeBatch checks that a Finish whose context is already done changes nothing.
func TestFinishCanceledBeforeBatch(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ids := storetest.ClaimAll(t, s, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Finish(ctx, ids[0], "w", storetest.Delivered(200)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Finish with a canceled context error = %v, want context.Canceled", err)
	}
	if d, err := s.GetDelivery(t.Context(), ids[0]); err != nil || d.State != store.InFlight {
		t.Errorf("delivery after a canceled Finish = %v, %v; want in flight", d, err)
	}
	if err := s.Finish(t.Context(), ids[0], "w", storetest.Delivered(200)); err != nil {
		t.Errorf("Finish after the canceled one error = %v, want nil", err)
	}
}
