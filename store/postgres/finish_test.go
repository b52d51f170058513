package postgres

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// claimAll ingests one call with n deliveries to sink "a" and claims them all for owner "w".
func claimAll(t *testing.T, s *Store, n int) []int64 {
	t.Helper()
	ds := make([]store.NewDelivery, n)
	for i := range ds {
		ds[i] = store.NewDelivery{Rule: "r", Action: i, Sink: "a"}
	}
	t0 := time.Unix(1000, 0).UTC()
	ids, err := s.Ingest(t.Context(), &store.Call{ID: 1, ReceivedAt: t0}, ds)
	if err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	got, err := s.Claim(t.Context(), "a", "w", n, time.Hour, t0)
	if err != nil || len(got) != n {
		t.Fatalf("Claim = %d deliveries, %v; want %d, nil", len(got), err, n)
	}
	return ids
}

func delivered(status int) store.Outcome {
	return store.Outcome{State: store.Delivered, Attempt: store.Attempt{
		StartedAt: time.Unix(1001, 0), Duration: time.Millisecond, Result: "success", StatusCode: status}}
}

// errAny stands for "some error" in test tables.
var errAny = errors.New("any error")

// TestFinishBatchIsolatesFailures commits Finish batches by hand (as the batcher would) and checks
// that each call that cannot finish fails alone, both when the batch's transaction commits and when
// a failing statement makes it finish each call on its own.
func TestFinishBatchIsolatesFailures(t *testing.T) {
	tests := []struct {
		name        string
		failingStmt bool // an attempt row of delivery 4 is refused by a trigger
	}{
		{name: "one transaction"},
		{name: "one statement fails", failingStmt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			ids := claimAll(t, s, 5)
			if tt.failingStmt {
				if _, err := s.pool.Exec(t.Context(), fmt.Sprintf(`CREATE FUNCTION fail_attempt() RETURNS trigger
					LANGUAGE plpgsql AS $$ BEGIN
						IF NEW.delivery_id = %d THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
						RETURN NEW;
					END $$`, ids[3])); err != nil {
					t.Fatal(err)
				}
				if _, err := s.pool.Exec(t.Context(), `CREATE TRIGGER fail_attempt BEFORE INSERT ON delivery_attempts
					FOR EACH ROW EXECUTE FUNCTION fail_attempt()`); err != nil {
					t.Fatal(err)
				}
			}
			item := func(id int64, owner string, status int) *store.BatchItem[finishReq] {
				return &store.BatchItem[finishReq]{Req: finishReq{id: id, owner: owner, o: delivered(status)}}
			}
			batch := []*store.BatchItem[finishReq]{
				item(ids[0], "w", 200),
				item(ids[1], "other", 201),
				item(ids[0], "w", 202),
				item(ids[0]+1000, "w", 203),
				item(ids[3], "w", 204),
				item(ids[2], "w", 205),
			}
			if err := s.finishBatch(batch); err != nil {
				t.Fatalf("finishBatch error = %v, want nil", err)
			}
			want := []struct {
				err    error
				state  store.State
				status int
			}{
				{state: store.Delivered, status: 200},
				{err: store.ErrLeaseLost, state: store.InFlight},
				{err: store.ErrLeaseLost, state: store.Delivered, status: 200},
				{err: store.ErrNotFound},
				{state: store.Delivered, status: 204},
				{state: store.Delivered, status: 205},
			}
			if tt.failingStmt {
				want[4].err, want[4].state, want[4].status = errAny, store.InFlight, 0
			}
			for i, it := range batch {
				w := want[i]
				switch {
				case w.err == errAny && it.Err == nil:
					t.Errorf("item %d: Finish(%d) error = nil, want an error", i, it.Req.id)
				case w.err != errAny && !errors.Is(it.Err, w.err):
					t.Errorf("item %d: Finish(%d) error = %v, want %v", i, it.Req.id, it.Err, w.err)
				}
				if w.state == "" {
					continue
				}
				d, err := s.GetDelivery(t.Context(), it.Req.id)
				if err != nil {
					t.Fatalf("GetDelivery(%d) error = %v, want nil", it.Req.id, err)
				}
				if d.State != w.state || d.LastStatus != w.status {
					t.Errorf("item %d: delivery %d = %s status %d, want %s status %d", i, it.Req.id, d.State, d.LastStatus, w.state, w.status)
				}
			}
			for _, id := range []int64{ids[0], ids[2]} {
				if as, err := s.Attempts(t.Context(), id); err != nil || len(as) != 1 {
					t.Errorf("Attempts(%d) = %d, %v; want 1, nil", id, len(as), err)
				}
			}
		})
	}
}
