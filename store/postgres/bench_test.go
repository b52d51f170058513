package postgres

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// BenchmarkIngestParallel measures Ingest from many goroutines, as webhooks arriving at once: group
// commit puts them in few transactions. Compare with -cpu 1 (one caller at a time, one commit each).
func BenchmarkIngestParallel(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	ds := []store.NewDelivery{pending("slack"), pending("crm")}
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Ingest(ctx, call(next.Add(1), t0), ds); err != nil {
				b.Errorf("Ingest: %v", err)
				return
			}
		}
	})
}

// BenchmarkClaimFinish measures one worker's cycle: claim a delivery and record it delivered.
func BenchmarkClaimFinish(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	for i := range b.N {
		if _, err := s.Ingest(ctx, call(int64(i+1), t0), []store.NewDelivery{pending("slack")}); err != nil {
			b.Fatalf("Ingest: %v", err)
		}
	}
	done := store.Outcome{State: store.Delivered, Attempt: store.Attempt{StartedAt: t0, Duration: time.Millisecond, Result: "success", StatusCode: 200}}
	b.ResetTimer()
	for range b.N {
		ds, err := s.Claim(ctx, "slack", "w", 1, time.Minute, t0)
		if err != nil || len(ds) != 1 {
			b.Fatalf("Claim = %d, %v; want 1", len(ds), err)
		}
		if err := s.Finish(ctx, ds[0].ID, "w", done); err != nil {
			b.Fatalf("Finish: %v", err)
		}
	}
}

// BenchmarkFinishParallel measures Finish from many goroutines (workers of several sinks finishing
// at once): b.N claimed deliveries are finished by 16 callers per core.
func BenchmarkFinishParallel(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	ds := make([]store.NewDelivery, 100)
	for i := range ds {
		ds[i] = pending("slack")
	}
	for i := 0; i < b.N; i += len(ds) {
		if _, err := s.Ingest(ctx, call(int64(i+1), t0), ds[:min(len(ds), b.N-i)]); err != nil {
			b.Fatalf("Ingest: %v", err)
		}
	}
	claimed, err := s.Claim(ctx, "slack", "w", b.N, time.Minute, t0)
	if err != nil || len(claimed) != b.N {
		b.Fatalf("Claim = %d, %v; want %d", len(claimed), err, b.N)
	}
	done := store.Outcome{State: store.Delivered, Attempt: store.Attempt{StartedAt: t0, Duration: time.Millisecond, Result: "success", StatusCode: 200}}
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := claimed[next.Add(1)-1]
			if err := s.Finish(ctx, d.ID, "w", done); err != nil {
				b.Errorf("Finish: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "finishes/s")
}
