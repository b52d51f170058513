package sqlite

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitWaiters waits until the gate has the given numbers of waiters. The gate has no signal for a new
// waiter, so this polls.
func waitWaiters(t *testing.T, g *writerGate, queue, ingest int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		q, i := len(g.queue), len(g.ingest)
		g.mu.Unlock()
		if q == queue && i == ingest {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gate waiters = %d queue, %d ingest after 10s; want %d, %d", q, i, queue, ingest)
		}
		time.Sleep(time.Millisecond)
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
				waitWaiters(t, &g, queued, ingests)
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
	}
}

// TestWriterGateCanceled checks that a waiter whose context ends gives up without holding the gate,
// and that the gate still serves the next waiter.
func TestWriterGateCanceled(t *testing.T) {
	var g writerGate
	if err := g.acquire(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- g.acquire(ctx, false) }()
	waitWaiters(t, &g, 1, 0)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire with a canceled context error = %v, want context.Canceled", err)
	}
	waitWaiters(t, &g, 0, 0)
	next := make(chan error, 1)
	go func() { next <- g.acquire(t.Context(), true) }()
	waitWaiters(t, &g, 0, 1)
	g.release()
	if err := <-next; err != nil {
		t.Fatalf("acquire after a canceled waiter error = %v, want nil", err)
	}
	g.release()
	if err := g.acquire(t.Context(), false); err != nil {
		t.Errorf("acquire of a free gate error = %v, want nil", err)
	}
}
