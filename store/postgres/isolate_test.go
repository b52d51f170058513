package postgres

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-relay/switchboard/store"
)

// TestCommitIsolating drives commitIsolating with a fake transaction, so it needs no database: the
// transaction fails with failWith whenever it holds call 3.
func TestCommitIsolating(t *testing.T) {
	connErr := errors.New("connection reset")
	tests := []struct {
		name     string
		failWith error
		// wantTries is the batches tried, by call id; wantFailed the calls that must fail, all others
		// must be stored.
		wantTries  [][]int64
		wantFailed []int64
		wantBatch  error
	}{
		{name: "rejected statement fails only its call", failWith: &pgconn.PgError{Code: "22021", Message: "invalid byte sequence"},
			wantTries: [][]int64{{1, 2, 3, 4, 5}, {1}, {2}, {3}, {4}, {5}}, wantFailed: []int64{3}},
		{name: "lost connection fails the whole batch", failWith: connErr,
			wantTries: [][]int64{{1, 2, 3, 4, 5}}, wantBatch: connErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tries [][]int64
			commit := func(ctx context.Context, batch []*store.IngestRequest) error {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("commit's context has no deadline")
				}
				var ids []int64
				for _, r := range batch {
					ids = append(ids, r.Call.ID)
					r.IDs = []int64{r.Call.ID * 10} // set even when failing, as a rolled-back transaction may
				}
				tries = append(tries, ids)
				if slices.Contains(ids, 3) {
					return tt.failWith
				}
				return nil
			}
			var batch []*store.IngestRequest
			for id := int64(1); id <= 5; id++ {
				batch = append(batch, &store.IngestRequest{Call: &store.Call{ID: id}})
			}
			if err := commitIsolating(batch, commit); !errors.Is(err, tt.wantBatch) {
				t.Fatalf("commitIsolating() = %v, want %v", err, tt.wantBatch)
			}
			if !slices.EqualFunc(tries, tt.wantTries, slices.Equal) {
				t.Errorf("batches tried = %v, want %v", tries, tt.wantTries)
			}
			if tt.wantBatch != nil {
				return
			}
			for _, r := range batch {
				if slices.Contains(tt.wantFailed, r.Call.ID) {
					if !errors.Is(r.Err, tt.failWith) || r.IDs != nil {
						t.Errorf("call %d: ids %v err %v, want nil, %v", r.Call.ID, r.IDs, r.Err, tt.failWith)
					}
					continue
				}
				if r.Err != nil || !slices.Equal(r.IDs, []int64{r.Call.ID * 10}) {
					t.Errorf("call %d: ids %v err %v, want [%d], nil", r.Call.ID, r.IDs, r.Err, r.Call.ID*10)
				}
			}
		})
	}
}
