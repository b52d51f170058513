package sqlite

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// These tests run in a synctest bubble: synctest.Wait returns once every waiter started is blocked in
// acquire, so the gate's waiters can be counted without polling.

// assertWaiters waits until every goroutine of the test is blocked and checks the gate's waiters.
func assertWaiters(t *testing.T, g *writerGate, queue, ingest int) {
	t.Helper()
	synctest.Wait()
	g.mu.Lock()
	q, i := len(g.queue), len(g.ingest)
	g.mu.Unlock()
	if q != queue || i != ingest {
		t.Fatalf("gate waiters = %d queue, %d ingest; want %d, %d", q, i, queue, ingest)
	}
}

// TestWriterGateOrder holds the gate, queues waiters of both kinds, and checks the order in which
// they get the writer: queue transactions first, but never more than maxQueueStreak in a row while an
// Ingest batch waits.
func TestWriterGateOrder(t *testing.T) {
	tests := []struct {
		name    string
		waiters string // in arrival order: q for a queue transaction, i for an Ingest batch
		want    string // in the order they get the writer
	}{
		{name: "queue transactions go first", waiters: "iqq", want: "qqi"},
		{name: "an ingest batch waits for at most a streak", waiters: "i" + strings.Repeat("q", maxQueueStreak+2),
			want: strings.Repeat("q", maxQueueStreak) + "iqq"},
		{name: "ingest batches alone in arrival order", waiters: "ii", want: "ii"},
		{name: "queue transactions alone", waiters: "qqq", want: "qqq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var g writerGate
				if err := g.acquire(t.Context(), true); err != nil {
					t.Fatal(err)
				}
				var mu sync.Mutex
				type turn struct {
					kind byte
					i    int // arrival
				}
				var got []turn
				var wg sync.WaitGroup
				queued, ingests := 0, 0
				for i, kind := range tt.waiters {
					ingest := kind == 'i'
					wg.Go(func() {
						if err := g.acquire(context.Background(), ingest); err != nil {
							t.Errorf("acquire error = %v, want nil", err)
							return
						}
						mu.Lock()
						got = append(got, turn{byte(kind), i})
						mu.Unlock()
						g.release()
					})
					if ingest {
						ingests++
					} else {
						queued++
					}
					assertWaiters(t, &g, queued, ingests)
				}
				g.release()
				wg.Wait()
				var kinds strings.Builder
				for _, w := range got {
					kinds.WriteByte(w.kind)
				}
				if kinds.String() != tt.want {
					t.Errorf("writer order = %s, want %s", kinds.String(), tt.want)
				}
				// Within a kind, arrival order.
				for _, k := range []byte{'q', 'i'} {
					var seq []int
					for _, w := range got {
						if w.kind == k {
							seq = append(seq, w.i)
						}
					}
					if !slices.IsSorted(seq) {
						t.Errorf("%c waiters served in arrival order %v, want ascending", k, seq)
					}
				}
			})
		})
	}
}

// TestWriterGateCanceled checks that a waiter whose context ends gives up without holding the gate,
// and that the gate still serves the next waiter.
func TestWriterGateCanceled(t *testing.T) {
	synctest.Test(t, testWriterGateCanceled)
}

func testWriterGateCanceled(t *testing.T) {
	var g writerGate
	if err := g.acquire(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- g.acquire(ctx, false) }()
	assertWaiters(t, &g, 1, 0)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire with a canceled context error = %v, want context.Canceled", err)
	}
	assertWaiters(t, &g, 0, 0)
	next := make(chan error, 1)
	go func() { next <- g.acquire(t.Context(), true) }()
	assertWaiters(t, &g, 0, 1)
	g.release()
	if err := <-next; err != nil {
		t.Fatalf("acquire after a canceled waiter error = %v, want nil", err)
	}
	g.release()
	if err := g.acquire(t.Context(), false); err != nil {
		t.Errorf("acquire of a free gate error = %v, want nil", err)
	}
}
