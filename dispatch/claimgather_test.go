package dispatch

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// claimRecorder is a store.Store that records the limit of every Claim.
type claimRecorder struct {
	store.Store
	mu     sync.Mutex
	limits []int
}

func (c *claimRecorder) Claim(ctx context.Context, sink, owner string, limit int, lease time.Duration, now time.Time) ([]*store.Delivery, error) {
	c.mu.Lock()
	c.limits = append(c.limits, limit)
	c.mu.Unlock()
	return c.Store.Claim(ctx, sink, owner, limit, lease, now)
}

func (c *claimRecorder) list() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.limits)
}

// TestBacklogClaimsGather: a worker whose last claim filled every free slot (a backlog) waits, up to
// claimGather, for half its slots to free before it claims again, so that one claim (one write
// transaction) fills several slots; a slot that frees alone is claimed once claimGather has passed.
// Meanwhile the freed slots are the backlog's: a reservation for fresh work gets none.
// Time is synctest's: the wait cannot end while a released send is still finishing.
func TestBacklogClaimsGather(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		rec := &claimRecorder{Store: st}
		release := make(chan struct{})
		crm := &fakeSink{send: func(ctx context.Context, _ *sinks.Delivery) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
		d, _ := newDispatcher(rec, Options{})
		d.Apply(map[string]*Target{"crm": target("crm", crm, 4)})
		ids := enqueue(t, st, "crm", 12)
		stop, _ := start(t, d)
		step := func(name string, want []int) {
			t.Helper()
			synctest.Wait()
			if got := rec.list(); !slices.Equal(got, want) {
				t.Fatalf("%s: claims of %v, want %v", name, got, want)
			}
		}
		step("start", []int{4})
		release <- struct{}{}
		step("one slot free", []int{4})
		if rv, ok := d.Reserve("crm"); ok {
			rv.Cancel()
			t.Fatal("a reservation took the slot freed while the worker gathers slots for its backlog: fresh work must not go before queued work")
		}
		release <- struct{}{}
		step("two slots free", []int{4, 2})
		release <- struct{}{}
		time.Sleep(claimGather)
		step("one slot free for claimGather", []int{4, 2, 1})
		close(release)
		waitState(t, st, store.Delivered, ids...)
		stop()
	})
}
