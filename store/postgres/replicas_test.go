package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
)

// replicas opens two Stores on one schema, as two Switchboard replicas sharing a database.
func replicas(t *testing.T) (a, b *Store) {
	t.Helper()
	dsn := newSchema(t)
	return open(t, dsn), open(t, dsn)
}

func TestReplicasClaimWithoutOverlap(t *testing.T) {
	a, b := replicas(t)
	ctx := context.Background()
	const total = 200
	for i := range total {
		if _, err := a.Ingest(ctx, call(int64(i+1), t0), []store.NewDelivery{pending("slack")}); err != nil {
			t.Fatalf("Ingest: %v", err)
		}
	}
	var mu sync.Mutex
	owners := map[int64]string{}
	var wg sync.WaitGroup
	for w := range 6 {
		s := []*Store{a, b}[w%2]
		owner := fmt.Sprintf("replica%d-worker%d", w%2, w)
		wg.Go(func() {
			for {
				ds, err := s.Claim(ctx, "slack", owner, 5, time.Minute, t0)
				if err != nil {
					t.Errorf("Claim by %s: %v", owner, err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, ok := owners[d.ID]; ok {
						t.Errorf("delivery %d claimed by %s and %s", d.ID, prev, owner)
					}
					owners[d.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(owners) != total {
		t.Errorf("claimed %d distinct deliveries, want %d", len(owners), total)
	}
}

func TestReplicasSameCallOnce(t *testing.T) {
	a, b := replicas(t)
	ctx := context.Background()
	const calls = 50
	type result struct {
		id  int64
		err error
	}
	results := make(chan result, 2*calls)
	var wg sync.WaitGroup
	for i := range calls {
		for _, s := range []*Store{a, b} {
			wg.Go(func() {
				_, err := s.Ingest(ctx, call(int64(i+1), t0), []store.NewDelivery{pending("slack")})
				results <- result{int64(i + 1), err}
			})
		}
	}
	wg.Wait()
	close(results)
	accepted := map[int64]int{}
	for r := range results {
		switch {
		case r.err == nil:
			accepted[r.id]++
		case !errors.Is(r.err, store.ErrDuplicate):
			t.Errorf("Ingest(call %d) = %v, want nil or ErrDuplicate", r.id, r.err)
		}
	}
	for id := int64(1); id <= calls; id++ {
		if accepted[id] != 1 {
			t.Errorf("call %d accepted %d times, want once", id, accepted[id])
		}
	}
	ds, err := a.ListDeliveries(ctx, store.DeliveryFilter{Limit: 1000})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	if len(ds) != calls {
		t.Errorf("deliveries stored = %d, want %d (one per call)", len(ds), calls)
	}
}

func TestReplicasFinishDeadReplicasWork(t *testing.T) {
	a, b := replicas(t)
	ctx := context.Background()
	ids, err := a.Ingest(ctx, call(1, t0), []store.NewDelivery{pending("slack")})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if got, err := a.Claim(ctx, "slack", "replica-a", 1, time.Minute, t0); err != nil || len(got) != 1 {
		t.Fatalf("Claim on a = %d, %v; want 1", len(got), err)
	}
	// Replica a dies with the lease held.
	if err := a.Close(); err != nil {
		t.Fatalf("Close a: %v", err)
	}
	if due, ok, err := b.NextDue(ctx, "slack"); err != nil || !ok || !due.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NextDue on b = %v %v %v, want the lease expiry %v", due, ok, err, t0.Add(time.Minute))
	}
	got, err := b.Claim(ctx, "slack", "replica-b", 1, time.Minute, t0.Add(time.Minute))
	if err != nil || len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("Claim on b after the lease expired = %d, %v; want delivery %d", len(got), err, ids[0])
	}
	if err := b.Finish(ctx, ids[0], "replica-b", store.Outcome{State: store.Delivered,
		Attempt: store.Attempt{StartedAt: t0.Add(time.Minute), Result: "success", StatusCode: 200}}); err != nil {
		t.Fatalf("Finish on b: %v", err)
	}
	as, err := b.Attempts(ctx, ids[0])
	if err != nil || len(as) != 1 || as[0].Number != 2 {
		t.Errorf("Attempts = %+v, %v; want one, numbered 2", as, err)
	}
}

// chanHandler is a slog.Handler that sends each record's message to a channel, dropping it when the
// channel is full.
type chanHandler chan<- string

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r.Message:
	default:
	}
	return nil
}
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h chanHandler) WithGroup(string) slog.Handler      { return h }

// awaitSink waits until got yields sink, skipping other values.
func awaitSink(t *testing.T, got <-chan string, sink string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-got:
			if s == sink {
				return
			}
		case <-timeout:
			t.Fatalf("no notification for sink %q within 10s", sink)
		}
	}
}

func TestReplicasWatch(t *testing.T) {
	a, b := replicas(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 100)
	if err := b.Watch(ctx, func(sink string) { got <- sink }); err != nil {
		t.Fatalf("Watch on b: %v", err)
	}
	if _, err := a.Ingest(ctx, call(1, t0), []store.NewDelivery{pending("from-a"), {Rule: "r", Sink: "dead-one", Dead: true}}); err != nil {
		t.Fatalf("Ingest on a: %v", err)
	}
	awaitSink(t, got, "from-a")
	if n, err := a.Requeue(ctx, store.Selector{AllDead: true}, t0); err != nil || n != 1 {
		t.Fatalf("Requeue on a = %d, %v; want 1", n, err)
	}
	awaitSink(t, got, "dead-one")
}

// TestWatchReconnects kills Watch's connection from the server side: Watch reconnects, and what was
// ingested meanwhile or after is still notified.
func TestWatchReconnects(t *testing.T) {
	dsn := newSchema(t)
	logs := make(chan string, 100)
	s, err := Open(context.Background(), dsn, Options{Logger: slog.New(chanHandler(logs))})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 100)
	if err := s.Watch(ctx, func(sink string) { got <- sink }); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(context.Background())
	// A queued delivery from before: the reconnected watch calls fn for it, as it may have missed it.
	if _, err := s.Ingest(ctx, call(1, t0), []store.NewDelivery{pending("before")}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	awaitSink(t, got, "before")
	var killed bool
	if err := admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int64(s.watchPID.Load())).Scan(&killed); err != nil {
		t.Fatalf("terminate the watch connection: %v", err)
	}
	if !killed {
		t.Fatalf("terminate the watch connection (pid %d) = false, want true", s.watchPID.Load())
	}
	awaitSink(t, logs, "store watch reconnected")
	awaitSink(t, got, "before")
	if _, err := s.Ingest(ctx, call(2, t0), []store.NewDelivery{pending("after-reconnect")}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	awaitSink(t, got, "after-reconnect")
}

func TestWatchDoneContext(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Watch(ctx, func(string) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch with a cancelled context = %v, want context.Canceled", err)
	}
}
