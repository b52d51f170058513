package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// IngestRequest is one Ingest call waiting in a GroupCommitter's queue.
type IngestRequest struct {
	Call       *Call
	Deliveries []NewDelivery
	// IDs and Err are set by the commit function: the new deliveries' ids in order, or why this one
	// call was not stored (ErrDuplicate, or an error that failed only this item).
	IDs []int64
	Err error

	state atomic.Int32 // reqQueued, reqTaken or reqAbandoned
	done  chan struct{}
}

const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

// GroupCommitOptions tunes a GroupCommitter. Zero fields take the defaults.
type GroupCommitOptions struct {
	// MaxBatch is the most calls committed in one transaction; default 256.
	MaxBatch int
	// MaxWait is how long a batch may wait after its first call for more to arrive, when fewer than
	// MaxBatch are already queued. Zero (the default) waits for nothing extra: calls that arrive while
	// a commit is in progress form the next batch, which already groups well under load without
	// delaying a lone caller. A negative value also means no wait.
	MaxWait time.Duration
}

// CommitFunc commits a batch of calls in one durable transaction. It sets IDs or Err on each request;
// a non-nil return means the transaction failed and nothing of the batch was stored, and is then
// reported to every caller of the batch.
type CommitFunc func(batch []*IngestRequest) error

// GroupCommitter turns concurrent Ingest calls into few transactions: one goroutine takes every call
// queued (up to MaxBatch), commits them together with one fsync, and answers each caller only after
// that commit. Both store implementations use it.
type GroupCommitter struct {
	opts   GroupCommitOptions
	commit CommitFunc
	queue  chan *IngestRequest

	mu       sync.RWMutex // guards closed against sends on a closed queue
	closed   bool
	finished chan struct{}
}

// NewGroupCommitter starts the committing goroutine; Close stops it.
func NewGroupCommitter(opts GroupCommitOptions, commit CommitFunc) *GroupCommitter {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	g := &GroupCommitter{
		opts:     opts,
		commit:   commit,
		queue:    make(chan *IngestRequest, opts.MaxBatch*4),
		finished: make(chan struct{}),
	}
	go g.run()
	return g
}

// Ingest queues one call and waits for its batch to commit. If ctx is done before the batch that would
// hold the call starts, it returns ctx.Err() and the call is not stored; once its batch has started it
// waits for the outcome, so a nil error always means the call is durable. After Close it returns
// ErrClosed.
func (g *GroupCommitter) Ingest(ctx context.Context, c *Call, ds []NewDelivery) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &IngestRequest{Call: c, Deliveries: ds, done: make(chan struct{})}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case g.queue <- r:
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		return nil, ctx.Err()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return nil, ctx.Err()
		}
		<-r.done
	}
	return r.IDs, r.Err
}

// Close stops accepting calls, commits every call already queued and waits for the last commit.
// Calling it again returns nil at once.
func (g *GroupCommitter) Close() error {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.queue)
	}
	g.mu.Unlock()
	<-g.finished
	return nil
}

func (g *GroupCommitter) run() {
	defer close(g.finished)
	batch := make([]*IngestRequest, 0, g.opts.MaxBatch)
	for {
		first, ok := <-g.queue
		if !ok {
			return
		}
		batch = g.take(batch[:0], first)
		open := true
	drain:
		for open && len(batch) < g.opts.MaxBatch {
			select {
			case r, more := <-g.queue:
				if !more {
					open = false
					break drain
				}
				batch = g.take(batch, r)
			default:
				break drain
			}
		}
		if open && g.opts.MaxWait > 0 && len(batch) < g.opts.MaxBatch {
			timer := time.NewTimer(g.opts.MaxWait)
		wait:
			for len(batch) < g.opts.MaxBatch {
				select {
				case r, more := <-g.queue:
					if !more {
						break wait
					}
					batch = g.take(batch, r)
				case <-timer.C:
					break wait
				}
			}
			timer.Stop()
		}
		if len(batch) == 0 {
			continue
		}
		if err := g.commit(batch); err != nil {
			for _, r := range batch {
				r.IDs, r.Err = nil, err
			}
		}
		for _, r := range batch {
			close(r.done)
		}
	}
}

// take adds r to batch unless its caller already gave up.
func (g *GroupCommitter) take(batch []*IngestRequest, r *IngestRequest) []*IngestRequest {
	if r.state.CompareAndSwap(reqQueued, reqTaken) {
		return append(batch, r)
	}
	close(r.done)
	return batch
}
