package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// GroupCommitOptions tunes a Batcher (and so a GroupCommitter). Zero fields take the defaults.
type GroupCommitOptions struct {
	// MaxBatch is the most requests committed in one transaction; default 256.
	MaxBatch int
	// MaxWait is how long a batch may wait after its first request for more to arrive, when fewer
	// than MaxBatch are already queued. Zero (the default) waits for nothing extra: requests that
	// arrive while a commit is in progress form the next batch, which already groups well under load
	// without delaying a lone caller. A negative value also means no wait.
	MaxWait time.Duration
	// Committers is how many batches may commit at once; default 1. More suits a database that
	// commits transactions from several connections in parallel (PostgreSQL): one batch gathers
	// while another commits.
	Committers int
}

// The states of a queued request, so that a caller giving up and a committer taking the request
// agree on whether it is in a batch.
const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

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
// then reported to every caller of the batch. It runs with no caller's context: a caller giving up
// must not fail the others of its batch, so it bounds its own work.
type BatchFunc[T any] func(batch []*BatchItem[T]) error

// Batcher is the group committer: concurrent Do calls queue, a committing goroutine takes every
// request queued (up to MaxBatch, waiting up to MaxWait for more when fewer are queued), commits them
// together and answers each caller after that commit. The stores use it for Ingest (one fsync or WAL
// flush per batch of webhooks) and for Finish (one transaction per batch of outcomes instead of one
// per delivery).
type Batcher[T any] struct {
	opts   GroupCommitOptions
	commit BatchFunc[T]
	queue  chan *BatchItem[T]

	mu         sync.RWMutex // guards closed against sends on a closed queue
	closed     bool
	committers sync.WaitGroup
}

// NewBatcher starts the committing goroutines; Close stops them.
func NewBatcher[T any](opts GroupCommitOptions, commit BatchFunc[T]) *Batcher[T] {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Committers <= 0 {
		opts.Committers = 1
	}
	b := &Batcher[T]{
		opts:   opts,
		commit: commit,
		queue:  make(chan *BatchItem[T], opts.MaxBatch*4),
	}
	for range opts.Committers {
		b.committers.Go(b.run)
	}
	return b
}

// Do queues req and waits for its batch to commit, returning the request's own error. If ctx is done
// before the batch that would hold req starts, it returns ctx.Err() and req is not committed; once its
// batch has started it waits for the outcome, so that the answer always matches what was committed:
// nil means req is committed, an error that it is not. After Close it returns ErrClosed.
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
// commit. Calling it again returns nil once that is done.
func (b *Batcher[T]) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.committers.Wait()
	return nil
}

// run is one committing goroutine: it gathers a batch, commits it and answers its callers, until the
// queue is closed and empty.
func (b *Batcher[T]) run() {
	batch := make([]*BatchItem[T], 0, b.opts.MaxBatch)
	for {
		first, ok := <-b.queue
		if !ok {
			return
		}
		batch = b.gather(b.take(batch[:0], first))
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

// gather adds to batch what else is queued and then, while the batch is not full, waits up to
// MaxWait for more.
func (b *Batcher[T]) gather(batch []*BatchItem[T]) []*BatchItem[T] {
	var expired <-chan time.Time // nil while taking what is queued; then MaxWait's timer
	for len(batch) < b.opts.MaxBatch {
		var it *BatchItem[T]
		var ok bool
		if expired == nil {
			select {
			case it, ok = <-b.queue:
			default:
				if b.opts.MaxWait <= 0 {
					return batch
				}
				timer := time.NewTimer(b.opts.MaxWait)
				defer timer.Stop()
				expired = timer.C
				continue
			}
		} else {
			select {
			case it, ok = <-b.queue:
			case <-expired:
				return batch
			}
		}
		if !ok {
			return batch // closed: commit what was taken
		}
		batch = b.take(batch, it)
	}
	return batch
}

// take adds it to batch unless its caller already gave up.
func (b *Batcher[T]) take(batch []*BatchItem[T], it *BatchItem[T]) []*BatchItem[T] {
	if it.state.CompareAndSwap(reqQueued, reqTaken) {
		return append(batch, it)
	}
	close(it.done)
	return batch
}
