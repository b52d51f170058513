package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-relay/switchboard/store"
)

// Group commit: Ingest calls queue here and committers take them in batches, one transaction (so one
// WAL flush) per batch. Under load a batch is whatever queued while the previous commit ran, up to
// maxBatch; a committer that finds a batch not full waits up to linger for more, which costs a lone
// caller about a millisecond and saves a flush per caller when many arrive together.
const (
	maxBatch   = 128
	linger     = time.Millisecond
	committers = 2 // one gathers a batch while the other commits
	// commitTimeout bounds one batch's transaction. It is not any caller's context: a caller giving up
	// must not fail the others of its batch.
	commitTimeout = 30 * time.Second
)

// ingestReq is one Ingest call waiting for its batch.
type ingestReq struct {
	ctx  context.Context
	call *store.Call
	ds   []store.NewDelivery
	// ids and err are the outcome, set by the commit function before done is closed.
	ids  []int64
	err  error
	done chan struct{}
}

// commitFunc commits a batch in one transaction, setting ids or err (store.ErrDuplicate) on each
// request. A non-nil return means nothing of the batch was stored.
type commitFunc func(ctx context.Context, batch []*ingestReq) error

// committer batches ingest requests.
type committer struct {
	commit commitFunc
	linger time.Duration
	queue  chan *ingestReq

	mu     sync.RWMutex // guards closed against sends on the closed queue
	closed bool
	wg     sync.WaitGroup
}

// newCommitter starts workers committing goroutines, each waiting up to linger to fill a batch.
func newCommitter(commit commitFunc, workers int, linger time.Duration) *committer {
	c := &committer{commit: commit, linger: linger, queue: make(chan *ingestReq, maxBatch)}
	for range workers {
		c.wg.Go(c.run)
	}
	return c
}

// submit queues r and waits for its outcome or ctx. When ctx ends after r's batch has begun, the call
// may still be stored; a sender retrying it then gets store.ErrDuplicate.
func (c *committer) submit(ctx context.Context, r *ingestReq) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.ctx = ctx
	r.done = make(chan struct{})
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, store.ErrClosed
	}
	select {
	case c.queue <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return nil, ctx.Err()
	}
	select {
	case <-r.done:
		return r.ids, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops accepting requests and waits until those queued are committed.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	close(c.queue)
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *committer) run() {
	for {
		first, ok := <-c.queue
		if !ok {
			return
		}
		c.flush(c.gather(first))
	}
}

// gather returns a batch of first and what else is queued, waiting up to linger for more while the
// batch is not full.
func (c *committer) gather(first *ingestReq) []*ingestReq {
	batch := []*ingestReq{first}
queued:
	for len(batch) < maxBatch {
		select {
		case r, ok := <-c.queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			break queued
		}
	}
	if len(batch) == maxBatch || c.linger <= 0 {
		return batch
	}
	timer := time.NewTimer(c.linger)
	defer timer.Stop()
	for len(batch) < maxBatch {
		select {
		case r, ok := <-c.queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// flush commits the live requests of batch and answers each. When the database rejects the batch
// (a statement error, not a lost connection), each request is committed alone, so that one bad call
// fails only its own caller.
func (c *committer) flush(batch []*ingestReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	err := c.commitOnce(live)
	var pgErr *pgconn.PgError
	if err != nil && len(live) > 1 && errors.As(err, &pgErr) {
		for _, r := range live {
			if err := c.commitOnce([]*ingestReq{r}); err != nil {
				r.ids, r.err = nil, err
			}
			close(r.done)
		}
		return
	}
	for _, r := range live {
		if err != nil {
			r.ids, r.err = nil, err
		}
		close(r.done)
	}
}

func (c *committer) commitOnce(batch []*ingestReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	for _, r := range batch {
		r.ids, r.err = nil, nil
	}
	return c.commit(ctx, batch)
}
