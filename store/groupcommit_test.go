package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// gatedCommit is a CommitFunc that records batches and, while gated, holds each commit until the test
// releases it, so that tests control what queues up behind it.
type gatedCommit struct {
	mu      sync.Mutex
	batches [][]int64
	entered chan struct{} // receives once per commit started
	release chan struct{} // one value lets one commit finish
	fail    int64         // a batch containing this call id fails as a whole
}

func newGatedCommit() *gatedCommit {
	return &gatedCommit{entered: make(chan struct{}, 100), release: make(chan struct{}, 100)}
}

func (g *gatedCommit) commit(batch []*IngestRequest) error {
	ids := make([]int64, len(batch))
	for i, r := range batch {
		ids[i] = r.Call.ID
	}
	g.mu.Lock()
	g.batches = append(g.batches, ids)
	g.mu.Unlock()
	g.entered <- struct{}{}
	<-g.release
	if slices.Contains(ids, g.fail) {
		return errors.New("disk full")
	}
	for _, r := range batch {
		if r.Call.ID%100 == 99 {
			r.Err = ErrDuplicate
			continue
		}
		r.IDs = []int64{r.Call.ID * 10}
	}
	return nil
}

func (g *gatedCommit) sizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []int
	for _, b := range g.batches {
		out = append(out, len(b))
	}
	return out
}

// waitQueued waits until n calls are queued behind the commit in progress. The queue has no signal of
// its own, so this polls its length.
func waitQueued(t *testing.T, gc *GroupCommitter, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(gc.b.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued after 10s, want %d", len(gc.b.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type ingestResult struct {
	id  int64
	ids []int64
	err error
}

// ingestAsync starts one Ingest per id and returns a channel of their results.
func ingestAsync(ctx context.Context, gc *GroupCommitter, ids ...int64) <-chan ingestResult {
	out := make(chan ingestResult, len(ids))
	for _, id := range ids {
		go func() {
			got, err := gc.Ingest(ctx, &Call{ID: id}, nil)
			out <- ingestResult{id, got, err}
		}()
	}
	return out
}

func TestGroupCommitBatches(t *testing.T) {
	tests := []struct {
		name      string
		maxBatch  int
		queued    int
		wantSizes []int
	}{
		{name: "everything queued during a commit is the next batch", maxBatch: 0, queued: 10, wantSizes: []int{1, 10}},
		{name: "batches are capped", maxBatch: 4, queued: 10, wantSizes: []int{1, 4, 4, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGatedCommit()
			gc := NewGroupCommitter(GroupCommitOptions{MaxBatch: tt.maxBatch}, g.commit)
			defer gc.Close()
			results := ingestAsync(t.Context(), gc, 1)
			<-g.entered
			var ids []int64
			for i := range tt.queued {
				ids = append(ids, int64(i+2))
			}
			more := ingestAsync(t.Context(), gc, ids...)
			waitQueued(t, gc, tt.queued)
			for range len(tt.wantSizes) {
				g.release <- struct{}{}
			}
			for range 1 + tt.queued {
				var r ingestResult
				select {
				case r = <-results:
				case r = <-more:
				}
				if r.err != nil || !slices.Equal(r.ids, []int64{r.id * 10}) {
					t.Errorf("Ingest(%d) = %v, %v; want [%d], nil", r.id, r.ids, r.err, r.id*10)
				}
			}
			if got := g.sizes(); !slices.Equal(got, tt.wantSizes) {
				t.Errorf("batch sizes = %v, want %v", got, tt.wantSizes)
			}
		})
	}
}

func TestGroupCommitFailures(t *testing.T) {
	g := newGatedCommit()
	g.fail = 13
	gc := NewGroupCommitter(GroupCommitOptions{MaxBatch: 3}, g.commit)
	defer gc.Close()
	first := ingestAsync(t.Context(), gc, 1)
	<-g.entered
	// Queued in order, so batches are [1], [11 12 13], [199].
	rest := make(map[int64]<-chan ingestResult)
	for i, id := range []int64{11, 12, 13, 199} {
		rest[id] = ingestAsync(t.Context(), gc, id)
		waitQueued(t, gc, i+1)
	}
	for range 3 {
		g.release <- struct{}{}
	}
	if r := <-first; r.err != nil {
		t.Errorf("Ingest(1) error = %v, want nil: its batch committed", r.err)
	}
	tests := []struct {
		name    string
		id      int64
		wantErr string
	}{
		{name: "batch that failed", id: 11, wantErr: "disk full"},
		{name: "the call that made it fail", id: 13, wantErr: "disk full"},
		{name: "item error in a good batch", id: 199, wantErr: ErrDuplicate.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := <-rest[tt.id]
			if r.err == nil || r.err.Error() != tt.wantErr || r.ids != nil {
				t.Errorf("Ingest(%d) = %v, %v; want nil, %q", tt.id, r.ids, r.err, tt.wantErr)
			}
		})
	}
	if got, want := g.sizes(), []int{1, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("batch sizes = %v, want %v", got, want)
	}
}

func TestGroupCommitCanceledWhileQueued(t *testing.T) {
	g := newGatedCommit()
	gc := NewGroupCommitter(GroupCommitOptions{}, g.commit)
	defer gc.Close()
	first := ingestAsync(t.Context(), gc, 1)
	<-g.entered
	ctx, cancel := context.WithCancel(t.Context())
	canceled := ingestAsync(ctx, gc, 2)
	waitQueued(t, gc, 1)
	cancel()
	if r := <-canceled; !errors.Is(r.err, context.Canceled) {
		t.Errorf("Ingest with a context canceled while queued error = %v, want context.Canceled", r.err)
	}
	kept := ingestAsync(t.Context(), gc, 3)
	waitQueued(t, gc, 2)
	g.release <- struct{}{}
	g.release <- struct{}{}
	if r := <-first; r.err != nil {
		t.Errorf("Ingest(1) error = %v, want nil", r.err)
	}
	if r := <-kept; r.err != nil {
		t.Errorf("Ingest(3) error = %v, want nil", r.err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if want := [][]int64{{1}, {3}}; !slices.EqualFunc(g.batches, want, slices.Equal) {
		t.Errorf("committed batches = %v, want %v (the canceled call never committed)", g.batches, want)
	}
}

func TestGroupCommitCloseDrains(t *testing.T) {
	g := newGatedCommit()
	gc := NewGroupCommitter(GroupCommitOptions{}, g.commit)
	first := ingestAsync(t.Context(), gc, 1)
	<-g.entered
	queued := ingestAsync(t.Context(), gc, 2, 3, 4)
	waitQueued(t, gc, 3)
	closed := make(chan error, 1)
	go func() { closed <- gc.Close() }()
	g.release <- struct{}{}
	g.release <- struct{}{}
	if err := <-closed; err != nil {
		t.Errorf("Close() error = %v, want nil", err)
	}
	for range 3 {
		if r := <-queued; r.err != nil {
			t.Errorf("Ingest(%d) queued before Close error = %v, want nil: Close commits the queue", r.id, r.err)
		}
	}
	if r := <-first; r.err != nil {
		t.Errorf("Ingest(1) error = %v, want nil", r.err)
	}
	if _, err := gc.Ingest(t.Context(), &Call{ID: 5}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Ingest after Close error = %v, want ErrClosed", err)
	}
	if err := gc.Close(); err != nil {
		t.Errorf("second Close() error = %v, want nil", err)
	}
}
