package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// TestReplicasFlushOneNotification: deaths recorded by two replicas, flushed by both at once, make
// exactly one notification listing every death.
func TestReplicasFlushOneNotification(t *testing.T) {
	a, b := replicas(t)
	ctx := context.Background()
	const total = 10
	for i := range total {
		s := []*Store{a, b}[i%2]
		d := pending("crm")
		d.Dead, d.Reason, d.Error = true, "template", "bad"
		if _, err := s.Ingest(ctx, call(int64(i+1), t0), []store.NewDelivery{d}); err != nil {
			t.Fatalf("Ingest: %v", err)
		}
	}
	var mu sync.Mutex
	var totals []int
	var wg sync.WaitGroup
	for w := range 6 {
		s := []*Store{a, b}[w%2]
		wg.Go(func() {
			_, err := s.FlushDead(ctx, time.Now().Add(time.Hour), time.Now(), func(g store.DeadGroup) (*store.Notification, error) {
				mu.Lock()
				defer mu.Unlock()
				totals = append(totals, g.Total)
				return &store.Notification{Kind: "dead_letters", Sink: "ops", Message: []byte(`{}`)}, nil
			})
			if err != nil {
				t.Errorf("FlushDead: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := a.ListDeliveries(ctx, store.DeliveryFilter{Sink: "ops"})
	if err != nil || len(got) != 1 || len(totals) != 1 || totals[0] != total {
		t.Errorf("notifications = %d (%v), groups rendered %v; want 1 notification of one group of %d", len(got), err, totals, total)
	}
}
