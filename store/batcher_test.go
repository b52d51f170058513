package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// gatedBatch is a BatchFunc over ints that records batch sizes and holds each commit until released.
// A request that is negative fails alone; a batch holding failWhole fails as a whole.
type gatedBatch struct {
	mu        sync.Mutex
	sizes     []int
	entered   chan struct{}
	release   chan struct{}
	failWhole int
}

func (g *gatedBatch) commit(batch []*BatchItem[int]) error {
	g.mu.Lock()
	g.sizes = append(g.sizes, len(batch))
	g.mu.Unlock()
	g.entered <- struct{}{}
	<-g.release
	for _, it := range batch {
		if it.Req == g.failWhole {
			return errors.New("disk full")
		}
	}
	for _, it := range batch {
		if it.Req < 0 {
			it.Err = ErrLeaseLost
		}
	}
	return nil
}

func waitBatchQueued(t *testing.T, b *Batcher[int], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(b.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued after 10s, want %d", len(b.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatcher queues requests behind a commit in progress and checks how they are batched and what
// each caller gets.
func TestBatcher(t *testing.T) {
	tests := []struct {
		name      string
		maxBatch  int
		queued    []int
		failWhole int
		wantSizes []int
		wantErr   map[int]error // by request; nil for the others
	}{
		{name: "everything queued during a commit is the next batch", queued: []int{2, 3, 4, 5},
			wantSizes: []int{1, 4}},
		{name: "batches are capped", maxBatch: 2, queued: []int{2, 3, 4, 5, 6},
			wantSizes: []int{1, 2, 2, 1}},
		{name: "a failing request fails alone", queued: []int{2, -3, 4},
			wantSizes: []int{1, 3}, wantErr: map[int]error{-3: ErrLeaseLost}},
		{name: "a failing batch fails its callers only", maxBatch: 2, queued: []int{2, 3, 4}, failWhole: 3,
			wantSizes: []int{1, 2, 1}, wantErr: map[int]error{2: errAnyBatch, 3: errAnyBatch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gatedBatch{entered: make(chan struct{}, 100), release: make(chan struct{}, 100), failWhole: tt.failWhole}
			if g.failWhole == 0 {
				g.failWhole = 1 << 30
			}
			b := NewBatcher(GroupCommitOptions{MaxBatch: tt.maxBatch}, g.commit)
			defer b.Close()
			type result struct {
				req int
				err error
			}
			results := make(chan result, 1+len(tt.queued))
			do := func(req int) { go func() { results <- result{req, b.Do(context.Background(), req)} }() }
			do(1)
			<-g.entered
			for i, req := range tt.queued {
				do(req)
				waitBatchQueued(t, b, i+1)
			}
			for range tt.wantSizes {
				g.release <- struct{}{}
			}
			for range 1 + len(tt.queued) {
				r := <-results
				want := tt.wantErr[r.req]
				switch {
				case want == errAnyBatch && r.err == nil:
					t.Errorf("Do(%d) error = nil, want its batch's error", r.req)
				case want != errAnyBatch && !errors.Is(r.err, want):
					t.Errorf("Do(%d) error = %v, want %v", r.req, r.err, want)
				}
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if !slices.Equal(g.sizes, tt.wantSizes) {
				t.Errorf("batch sizes = %v, want %v", g.sizes, tt.wantSizes)
			}
		})
	}
}

// errAnyBatch stands for "the batch's error" in test tables.
var errAnyBatch = errors.New("any error")

// TestBatcherCanceledAndClosed checks that a request whose context ends while queued is dropped, and
// that Do after Close returns ErrClosed.
func TestBatcherCanceledAndClosed(t *testing.T) {
	g := &gatedBatch{entered: make(chan struct{}, 100), release: make(chan struct{}, 100), failWhole: 1 << 30}
	b := NewBatcher(GroupCommitOptions{}, g.commit)
	first := make(chan error, 1)
	go func() { first <- b.Do(context.Background(), 1) }()
	<-g.entered
	ctx, cancel := context.WithCancel(t.Context())
	canceled := make(chan error, 1)
	go func() { canceled <- b.Do(ctx, 2) }()
	waitBatchQueued(t, b, 1)
	cancel()
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Errorf("Do with a canceled context error = %v, want context.Canceled", err)
	}
	g.release <- struct{}{}
	if err := <-first; err != nil {
		t.Errorf("Do(1) error = %v, want nil", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close error = %v, want nil", err)
	}
	if err := b.Do(t.Context(), 3); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close error = %v, want ErrClosed", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !slices.Equal(g.sizes, []int{1}) {
		t.Errorf("batch sizes = %v, want [1]: the canceled request is never committed", g.sizes)
	}
}
