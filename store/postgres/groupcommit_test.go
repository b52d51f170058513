package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-relay/switchboard/store"
)

// These tests drive the committer with a fake commit function, so they need no database.

// queued puts a request for call id straight into c's queue, as submit would, and returns it.
func queued(t *testing.T, ctx context.Context, c *committer, id int64) *ingestReq {
	t.Helper()
	r := &ingestReq{ctx: ctx, call: &store.Call{ID: id}, done: make(chan struct{})}
	c.queue <- r
	return r
}

// fakeCommit stores every call of a batch except ids in bad, and fails the batch with failWith when
// one is present. It records the batches' call ids.
type fakeCommit struct {
	mu       sync.Mutex
	batches  [][]int64
	bad      map[int64]bool
	failWith error
	// hold, when set, blocks the first commit until it is closed; entered is closed when it starts.
	hold, entered chan struct{}
}

func (f *fakeCommit) commit(_ context.Context, batch []*ingestReq) error {
	f.mu.Lock()
	ids := make([]int64, len(batch))
	for i, r := range batch {
		ids[i] = r.call.ID
	}
	f.batches = append(f.batches, ids)
	first := len(f.batches) == 1
	f.mu.Unlock()
	if first && f.hold != nil {
		close(f.entered)
		<-f.hold
	}
	for _, r := range batch {
		if f.bad[r.call.ID] {
			return f.failWith
		}
	}
	for _, r := range batch {
		r.ids = []int64{r.call.ID * 10}
	}
	return nil
}

func TestCommitterBatchesWhatQueuedDuringACommit(t *testing.T) {
	f := &fakeCommit{hold: make(chan struct{}), entered: make(chan struct{})}
	c := newCommitter(f.commit, 1, 0)
	defer c.close()
	ctx := context.Background()

	first := queued(t, ctx, c, 1)
	<-f.entered
	var rest []*ingestReq
	for id := int64(2); id <= 21; id++ {
		rest = append(rest, queued(t, ctx, c, id))
	}
	close(f.hold)
	for _, r := range append([]*ingestReq{first}, rest...) {
		<-r.done
		if r.err != nil || !slices.Equal(r.ids, []int64{r.call.ID * 10}) {
			t.Errorf("call %d: ids %v err %v, want [%d] nil", r.call.ID, r.ids, r.err, r.call.ID*10)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.batches) != 2 || len(f.batches[0]) != 1 || len(f.batches[1]) != 20 {
		t.Errorf("batches = %v, want [[1] [2 … 21]]: the 20 calls queued during the first commit in one", f.batches)
	}
}

func TestCommitterFailures(t *testing.T) {
	connErr := errors.New("connection reset")
	tests := []struct {
		name     string
		failWith error
		// wantFailed is the calls that must fail; all others must succeed.
		wantFailed []int64
	}{
		{name: "rejected statement fails only its call", failWith: &pgconn.PgError{Code: "22021", Message: "invalid byte sequence"}, wantFailed: []int64{3}},
		{name: "lost connection fails the whole batch", failWith: connErr, wantFailed: []int64{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCommit{bad: map[int64]bool{3: true}, failWith: tt.failWith}
			// No worker yet: queue the whole batch first, so that it is committed as one.
			c := &committer{commit: f.commit, queue: make(chan *ingestReq, maxBatch)}
			var reqs []*ingestReq
			for id := int64(1); id <= 5; id++ {
				reqs = append(reqs, queued(t, context.Background(), c, id))
			}
			c.wg.Go(c.run)
			defer c.close()
			for _, r := range reqs {
				<-r.done
				wantFail := slices.Contains(tt.wantFailed, r.call.ID)
				if gotFail := r.err != nil; gotFail != wantFail {
					t.Errorf("call %d: err %v, want failure %v", r.call.ID, r.err, wantFail)
				}
				if wantFail && !errors.Is(r.err, tt.failWith) {
					t.Errorf("call %d: err %v, want %v", r.call.ID, r.err, tt.failWith)
				}
			}
		})
	}
}

func TestCommitterSkipsAbandonedCalls(t *testing.T) {
	f := &fakeCommit{}
	c := &committer{commit: f.commit, queue: make(chan *ingestReq, maxBatch)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	abandoned := queued(t, ctx, c, 1)
	kept := queued(t, context.Background(), c, 2)
	c.wg.Go(c.run)
	defer c.close()
	<-abandoned.done
	<-kept.done
	if !errors.Is(abandoned.err, context.Canceled) || kept.err != nil {
		t.Errorf("errors = %v, %v; want context.Canceled for the abandoned call, nil for the other", abandoned.err, kept.err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.EqualFunc(f.batches, [][]int64{{2}}, slices.Equal) {
		t.Errorf("committed batches = %v, want [[2]]", f.batches)
	}
}

func TestCommitterCloseCommitsQueued(t *testing.T) {
	f := &fakeCommit{}
	c := &committer{commit: f.commit, queue: make(chan *ingestReq, maxBatch)}
	var reqs []*ingestReq
	for id := int64(1); id <= 3; id++ {
		reqs = append(reqs, queued(t, context.Background(), c, id))
	}
	c.wg.Go(c.run)
	c.close()
	for _, r := range reqs {
		select {
		case <-r.done:
		default:
			t.Fatalf("call %d not answered when close returned", r.call.ID)
		}
		if r.err != nil {
			t.Errorf("call %d: err %v, want nil", r.call.ID, r.err)
		}
	}
	if _, err := c.submit(context.Background(), &ingestReq{call: &store.Call{ID: 9}}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("submit after close = %v, want ErrClosed", err)
	}
}
