package sqlite

import (
	"context"
	"slices"
	"sync"
)

// maxQueueStreak is how many queue transactions (Claim, a Finish batch) may take the writer in a row
// while an Ingest batch waits for it.
const maxQueueStreak = 8

// writerGate shares the writer connection between the Ingest committer and the queue's bookkeeping
// (Claim and Finish batches). database/sql hands a released connection to a random waiter, which
// under heavy ingest left each worker's next Claim and Finish behind a full Ingest batch and its
// fsync, so that deliveries crawled while webhooks poured in. The gate instead lets the short,
// relaxed queue transactions go first, up to maxQueueStreak of them while an Ingest batch waits,
// then the batch: neither side starves, and the Ingest batch that waited simply grows (group commit
// absorbs it). Waiters of one kind are served in arrival order. Other writes (Requeue, Purge,
// recovery) do not pass the gate; they take their turn at the connection pool.
type writerGate struct {
	mu     sync.Mutex
	held   bool
	queue  []chan struct{} // waiting queue transactions, oldest first
	ingest []chan struct{} // waiting Ingest batches, oldest first
	streak int             // queue transactions granted in a row while an Ingest batch waited
}

// acquire waits for the writer's turn. An Ingest batch passes ingest true. It returns ctx.Err(),
// holding nothing, when ctx is done first.
func (g *writerGate) acquire(ctx context.Context, ingest bool) error {
	g.mu.Lock()
	if !g.held {
		g.held = true
		if ingest {
			g.streak = 0
		}
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if ingest {
		g.ingest = append(g.ingest, ch)
	} else {
		g.queue = append(g.queue, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	waiting := &g.queue
	if ingest {
		waiting = &g.ingest
	}
	if i := slices.Index(*waiting, ch); i >= 0 {
		*waiting = slices.Delete(*waiting, i, i+1)
		g.mu.Unlock()
		return ctx.Err()
	}
	g.mu.Unlock()
	// The turn was granted as ctx ended: pass it on.
	g.release()
	return ctx.Err()
}

// release ends the holder's turn and grants the next: a waiting queue transaction unless an Ingest
// batch has already waited for maxQueueStreak of them.
func (g *writerGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case len(g.queue) > 0 && (len(g.ingest) == 0 || g.streak < maxQueueStreak):
		if len(g.ingest) > 0 {
			g.streak++
		}
		close(g.queue[0])
		g.queue = slices.Delete(g.queue, 0, 1)
	case len(g.ingest) > 0:
		g.streak = 0
		close(g.ingest[0])
		g.ingest = slices.Delete(g.ingest, 0, 1)
	default:
		g.held = false
	}
}
