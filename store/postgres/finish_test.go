package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

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
			ids := storetest.ClaimAll(t, s, 5)
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
				return &store.BatchItem[finishReq]{Req: finishReq{id: id, owner: owner, o: storetest.Delivered(status)}}
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
