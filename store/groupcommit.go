package store

import (
	"context"
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
	// Unleased is set by the commit function with IDs: the indexes in Deliveries of the leased
	// deliveries it stored pending instead, their sink not being active (see NewDelivery.LeaseOwner).
	Unleased []int
}

// CommitFunc commits a batch of calls in one durable transaction. It sets IDs or Err on each request;
// a non-nil return means the transaction failed and nothing of the batch was stored, and is then
// reported to every caller of the batch. Like a BatchFunc it runs with no caller's context.
type CommitFunc func(batch []*IngestRequest) error

// GroupCommitter turns concurrent Ingest calls into few transactions: it is a Batcher of
// IngestRequests, so a committing goroutine takes every call queued (up to MaxBatch), commits them
// together with one fsync or WAL flush, and answers each caller only after that commit. Both stores
// use it.
type GroupCommitter struct {
	b *Batcher[*IngestRequest]
}

// NewGroupCommitter starts the committing goroutines; Close stops them.
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

// Ingest queues one call and waits for its batch to commit, with Batcher.Do's answer: ctx.Err() and
// nothing stored if ctx is done before the call's batch starts; once it has started, the batch's
// outcome, so a nil error always means the call is durable and an error that it is not. After Close
// it returns ErrClosed.
func (g *GroupCommitter) Ingest(ctx context.Context, c *Call, ds []NewDelivery) ([]int64, error) {
	r := &IngestRequest{Call: c, Deliveries: ds}
	if err := g.b.Do(ctx, r); err != nil {
		return nil, err
	}
	for _, i := range r.Unleased {
		ds[i].LeaseOwner, ds[i].LeaseExpires = "", time.Time{}
	}
	return r.IDs, nil
}

// Close stops accepting calls, commits every call already queued and waits for the last commit.
// Calling it again returns nil once that is done.
func (g *GroupCommitter) Close() error {
	return g.b.Close()
}
