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
}

// The states of a queued request, so that a caller giving up and the committer taking the request
// agree on whether it is in a batch.
const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

// GroupCommitOptions tunes a GroupCommitter or a Batcher. Zero fields take the defaults.
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
// that commit. It is a Batcher of IngestRequests; the SQLite store uses it.
type GroupCommitter struct {
	b *Batcher[*IngestRequest]
}

// NewGroupCommitter starts the committing goroutine; Close stops it.
func NewGroupCommitter(opts GroupCommitOptions, commit CommitFunc) *GroupCommitter {
	return &GroupCommitter{b: NewBatcher(opts, func(batch []*BatchItem[*IngestRequest]) error {
		reqs := make([]*IngestRequest, len(batch))
		for i, it := range batch {
			reqs[i] = it.Req
		}
		if err := commit(reqs); err != nil {
			return err
		}
		for _, it := range batch {
			it.Err = it.Req.Err
		}
		return nil
	})}
}

// Ingest queues one call and waits for its batch to commit. If ctx is done before the batch that would
// hold the call starts, it returns ctx.Err() and the call is not stored; once its batch has started it
// waits for the outcome, so a nil error always means the call is durable. After Close it returns
// ErrClosed.
func (g *GroupCommitter) Ingest(ctx context.Context, c *Call, ds []NewDelivery) ([]int64, error) {
	r := &IngestRequest{Call: c, Deliveries: ds}
	if err := g.b.Do(ctx, r); err != nil {
		return nil, err
	}
	return r.IDs, nil
}

// Close stops accepting calls, commits every call already queued and waits for the last commit.
// Calling it again returns nil at once.
func (g *GroupCommitter) Close() error {
	return g.b.Close()
}

// BatchItem is one request waiting in a Batcher's queue.
type BatchItem[T any] struct {
	// Req is the caller's request.
	Req T
	// Err is set by the commit function when this one request failed (the others of its batch may
	// still commit); it is what the caller's Do returns.
	Err error

	state atomic.Int32 // reqQueued, reqTaken or reqAbandoned
	done  chan struct{}
}

// BatchFunc commits a batch of requests in one transaction. It sets Err on each request that failed
// alone; a non-nil return means the transaction failed and nothing of the batch was stored, and is
// then reported to every caller of the batch.
type BatchFunc[T any] func(batch []*BatchItem[T]) error

// Batcher is the group committer for any request type: concurrent Do calls queue, one goroutine takes
// every request queued (up to MaxBatch, waiting up to MaxWait for more when fewer are queued),
// commits them together and answers each caller after that commit. The stores use it to group
// Finish calls, so that a busy queue costs one transaction per batch instead of one per delivery.
type Batcher[T any] struct {
	opts   GroupCommitOptions
	commit BatchFunc[T]
	queue  chan *BatchItem[T]

	mu       sync.RWMutex // guards closed against sends on a closed queue
	closed   bool
	finished chan struct{}
}

// NewBatcher starts the committing goroutine; Close stops it.
func NewBatcher[T any](opts GroupCommitOptions, commit BatchFunc[T]) *Batcher[T] {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	b := &Batcher[T]{
		opts:     opts,
		commit:   commit,
		queue:    make(chan *BatchItem[T], opts.MaxBatch*4),
		finished: make(chan struct{}),
	}
	go b.run()
	return b
}

// Do queues req and waits for its batch to commit, returning the request's own error. If ctx is done
// before the batch that would hold req starts, it returns ctx.Err() and req is not committed; once its
// batch has started it waits for the outcome, so a nil error always means req is committed. After
// Close it returns ErrClosed.
func (b *Batcher[T]) Do(ctx context.Context, req T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	it := &BatchItem[T]{Req: req, done: make(chan struct{})}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	select {
	case b.queue <- it:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-it.done:
	case <-ctx.Done():
		if it.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		<-it.done
	}
	return it.Err
}

// Close stops accepting requests, commits every request already queued and waits for the last
// commit. Calling it again returns nil at once.
func (b *Batcher[T]) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.finished
	return nil
}

func (b *Batcher[T]) run() {
	defer close(b.finished)
	batch := make([]*BatchItem[T], 0, b.opts.MaxBatch)
	for {
		first, ok := <-b.queue
		if !ok {
			return
		}
		batch = b.take(batch[:0], first)
		open := true
	drain:
		for open && len(batch) < b.opts.MaxBatch {
			select {
			case it, more := <-b.queue:
				if !more {
					open = false
					break drain
				}
				batch = b.take(batch, it)
			default:
				break drain
			}
		}
		if open && b.opts.MaxWait > 0 && len(batch) < b.opts.MaxBatch {
			timer := time.NewTimer(b.opts.MaxWait)
		wait:
			for len(batch) < b.opts.MaxBatch {
				select {
				case it, more := <-b.queue:
					if !more {
						break wait
					}
					batch = b.take(batch, it)
				case <-timer.C:
					break wait
				}
			}
			timer.Stop()
		}
		if len(batch) == 0 {
			continue
		}
		if err := b.commit(batch); err != nil {
			for _, it := range batch {
				it.Err = err
			}
		}
		for _, it := range batch {
			close(it.done)
		}
		clear(batch) // let the requests be collected while waiting for the next batch
	}
}

// take adds it to batch unless its caller already gave up.
func (b *Batcher[T]) take(batch []*BatchItem[T], it *BatchItem[T]) []*BatchItem[T] {
	if it.state.CompareAndSwap(reqQueued, reqTaken) {
		return append(batch, it)
	}
	close(it.done)
	return batch
}
