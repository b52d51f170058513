package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run in a synctest bubble: synctest.Wait returns once every goroutine of the test is
// blocked (a caller waiting for its batch, a commit held by the test), and MaxWait runs on the
// bubble's fake clock.

// gatedBatch is a BatchFunc over ints that records its batches and holds each commit until the test
// releases it. A negative request fails alone; a batch holding failWhole fails as a whole.
type gatedBatch struct {
	mu        sync.Mutex
	batches   [][]int
	release   chan struct{} // one value lets one commit finish
	failWhole int
}

func newGatedBatch() *gatedBatch {
	return &gatedBatch{release: make(chan struct{}, 100)}
}

func (g *gatedBatch) commit(batch []*BatchItem[int]) error {
	reqs := make([]int, len(batch))
	for i, it := range batch {
		reqs[i] = it.Req
	}
	g.mu.Lock()
	g.batches = append(g.batches, reqs)
	g.mu.Unlock()
	<-g.release
	if g.failWhole != 0 && slices.Contains(reqs, g.failWhole) {
		return errDiskFull
	}
	for _, it := range batch {
		if it.Req < 0 {
			it.Err = ErrLeaseLost
		}
	}
	return nil
}

// committed returns the batches started so far.
func (g *gatedBatch) committed() [][]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.batches)
}

var errDiskFull = errors.New("disk full")

// doAsync starts one Do per request, each after the previous one queued, and returns their errors.
func doAsync(ctx context.Context, b *Batcher[int], reqs ...int) map[int]chan error {
	out := map[int]chan error{}
	for _, req := range reqs {
		out[req] = make(chan error, 1)
		go func() { out[req] <- b.Do(ctx, req) }()
		synctest.Wait()
	}
	return out
}

// TestBatcher starts a commit of request 1, holds it while more requests queue, then lets every
// commit finish, and checks how the requests were batched and what each caller got.
func TestBatcher(t *testing.T) {
	tests := []struct {
		name        string
		opts        GroupCommitOptions
		queued      []int
		failWhole   int
		wantBatches [][]int
		wantErr     map[int]error // by request; nil for the others
	}{
		{name: "everything queued during a commit is the next batch", queued: []int{2, 3, 4, 5},
			wantBatches: [][]int{{1}, {2, 3, 4, 5}}},
		{name: "batches are capped", opts: GroupCommitOptions{MaxBatch: 2}, queued: []int{2, 3, 4, 5, 6},
			wantBatches: [][]int{{1}, {2, 3}, {4, 5}, {6}}},
		{name: "a second committer commits the next batch meanwhile", opts: GroupCommitOptions{MaxBatch: 2, Committers: 2},
			queued: []int{2, 3, 4}, wantBatches: [][]int{{1}, {2}, {3, 4}}},
		{name: "a failing request fails alone", queued: []int{2, -3, 4},
			wantBatches: [][]int{{1}, {2, -3, 4}}, wantErr: map[int]error{-3: ErrLeaseLost}},
		{name: "a failing batch fails its callers only", opts: GroupCommitOptions{MaxBatch: 2}, queued: []int{2, 3, 4}, failWhole: 3,
			wantBatches: [][]int{{1}, {2, 3}, {4}}, wantErr: map[int]error{2: errDiskFull, 3: errDiskFull}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newGatedBatch()
				g.failWhole = tt.failWhole
				b := NewBatcher(tt.opts, g.commit)
				defer b.Close()
				results := doAsync(t.Context(), b, append([]int{1}, tt.queued...)...)
				for range tt.wantBatches {
					g.release <- struct{}{}
				}
				for req, got := range results {
					if err := <-got; !errors.Is(err, tt.wantErr[req]) {
						t.Errorf("Do(%d) error = %v, want %v", req, err, tt.wantErr[req])
					}
				}
				// A second committer starts its batch before the first commit ends, so batches may
				// start in another order: compare them as a set.
				got := g.committed()
				sortBatches(got)
				sortBatches(tt.wantBatches)
				if !slices.EqualFunc(got, tt.wantBatches, slices.Equal) {
					t.Errorf("batches = %v, want %v", got, tt.wantBatches)
				}
			})
		})
	}
}

func sortBatches(bs [][]int) {
	slices.SortFunc(bs, func(a, b []int) int { return slices.Compare(a, b) })
}

// TestBatcherMaxWait checks that a batch not full waits MaxWait for more requests, and no longer.
func TestBatcherMaxWait(t *testing.T) {
	const wait = 10 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		g := newGatedBatch()
		b := NewBatcher(GroupCommitOptions{MaxWait: wait}, g.commit)
		defer b.Close()
		first := doAsync(t.Context(), b, 1)
		time.Sleep(wait - time.Nanosecond) // the bubble's clock: the batch is still open
		if got := g.committed(); len(got) != 0 {
			t.Fatalf("batches committed before MaxWait = %v, want none", got)
		}
		second := doAsync(t.Context(), b, 2)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if got, want := g.committed(), [][]int{{1, 2}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("batches = %v, want %v: a request arriving within MaxWait joins the batch", got, want)
		}
		g.release <- struct{}{}
		if err := errors.Join(<-first[1], <-second[2]); err != nil {
			t.Errorf("Do error = %v, want nil", err)
		}
	})
}

// TestBatcherContextEnds checks both sides of a batch's start: a request whose context ends while it
// is queued is dropped and its caller gets ctx.Err(); one whose context ends while its batch commits
// gets the batch's real outcome, which is what was committed.
func TestBatcherContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGatedBatch()
		b := NewBatcher(GroupCommitOptions{}, g.commit)
		defer b.Close()
		committing, cancelCommitting := context.WithCancel(t.Context())
		first := doAsync(committing, b, 1)
		queued, cancelQueued := context.WithCancel(t.Context())
		dropped := doAsync(queued, b, 2)
		cancelCommitting()
		cancelQueued()
		if err := <-dropped[2]; !errors.Is(err, context.Canceled) {
			t.Errorf("Do with a context canceled while queued error = %v, want context.Canceled", err)
		}
		kept := doAsync(t.Context(), b, 3)
		g.release <- struct{}{}
		g.release <- struct{}{}
		if err := <-first[1]; err != nil {
			t.Errorf("Do with a context canceled while its batch commits error = %v, want nil: it was committed", err)
		}
		if err := <-kept[3]; err != nil {
			t.Errorf("Do(3) error = %v, want nil", err)
		}
		if got, want := g.committed(), [][]int{{1}, {3}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("batches = %v, want %v (the canceled request never committed)", got, want)
		}
	})
}

// TestBatcherCloseDrains checks that Close commits what is queued before returning, and that Do after
// Close returns ErrClosed.
func TestBatcherCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGatedBatch()
		b := NewBatcher(GroupCommitOptions{}, g.commit)
		results := doAsync(t.Context(), b, 1, 2, 3, 4)
		closed := make(chan error, 1)
		go func() { closed <- b.Close() }()
		g.release <- struct{}{}
		g.release <- struct{}{}
		if err := <-closed; err != nil {
			t.Errorf("Close() error = %v, want nil", err)
		}
		synctest.Wait() // the callers answered have returned; nothing answers the others after Close
		for req, got := range results {
			select {
			case err := <-got:
				if err != nil {
					t.Errorf("Do(%d) queued before Close error = %v, want nil: Close commits the queue", req, err)
				}
			default:
				t.Errorf("Do(%d) not answered when Close returned", req)
			}
		}
		if err := b.Do(t.Context(), 5); !errors.Is(err, ErrClosed) {
			t.Errorf("Do after Close error = %v, want ErrClosed", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second Close() error = %v, want nil", err)
		}
	})
}

// TestGroupCommitter checks that Ingest hands each caller its own ids or error, and a failed batch's
// error to every caller of that batch.
func TestGroupCommitter(t *testing.T) {
	commit := func(batch []*IngestRequest) error {
		for _, r := range batch {
			if r.Call.ID == 13 {
				return errDiskFull
			}
		}
		for _, r := range batch {
			if r.Call.ID == 99 {
				r.Err = ErrDuplicate
				continue
			}
			r.IDs = []int64{r.Call.ID * 10, r.Call.ID*10 + 1}[:len(r.Deliveries)]
		}
		return nil
	}
	tests := []struct {
		name    string
		id      int64
		wantIDs []int64
		wantErr error
	}{
		{name: "stored", id: 1, wantIDs: []int64{10, 11}},
		{name: "item error", id: 99, wantErr: ErrDuplicate},
		{name: "failed batch", id: 13, wantErr: errDiskFull},
	}
	gc := NewGroupCommitter(GroupCommitOptions{MaxBatch: 1}, commit)
	defer gc.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := gc.Ingest(t.Context(), &Call{ID: tt.id}, make([]NewDelivery, 2))
			if !errors.Is(err, tt.wantErr) || !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("Ingest(%d) = %v, %v; want %v, %v", tt.id, ids, err, tt.wantIDs, tt.wantErr)
			}
		})
	}
}
