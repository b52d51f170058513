package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// benchRaw is a webhook body of about 2 KB, the size of a typical post-call payload with a short
// transcript.
var benchRaw = bytes.Repeat([]byte("x"), 2048)

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start (from cpuTime): on a machine
// shared with other work it varies far less than the wall time per operation.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

func benchStore(b *testing.B, opts Options) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkIngestParallel measures durable ingests per second with many concurrent callers (as under
// a burst of webhooks): each call has one delivery and a 2 KB body, and each returns only after its
// group's fsync.
func BenchmarkIngestParallel(b *testing.B) {
	for _, wait := range []time.Duration{0, time.Millisecond} {
		b.Run(fmt.Sprintf("wait=%s", wait), func(b *testing.B) {
			s := benchStore(b, Options{BatchWait: wait})
			var next atomic.Int64
			ds := []store.NewDelivery{{Rule: "r", Sink: "slack", Message: []byte(`{"text":"hot lead"}`)}}
			b.SetParallelism(32) // 32 callers per core
			b.ResetTimer()
			cpu0 := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c := &store.Call{ID: next.Add(1), ReceivedAt: time.Now(), Status: "completed", Matched: []string{"r"}, Raw: benchRaw}
					if _, err := s.Ingest(context.Background(), c, ds); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkIngestSerial measures one caller at a time: every call pays a whole commit and fsync.
func BenchmarkIngestSerial(b *testing.B) {
	s := benchStore(b, Options{})
	ds := []store.NewDelivery{{Rule: "r", Sink: "slack", Message: []byte(`{"text":"hot lead"}`)}}
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := range b.N {
		c := &store.Call{ID: int64(i + 1), ReceivedAt: time.Now(), Status: "completed", Raw: benchRaw}
		if _, err := s.Ingest(context.Background(), c, ds); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	reportCPU(b, cpu0)
}

// BenchmarkClaimFinish measures a worker's queue overhead per delivery: claim batches of 32, then
// finish each as delivered (one transaction each), against a queue of b.N deliveries.
func BenchmarkClaimFinish(b *testing.B) {
	s := benchStore(b, Options{})
	t0 := time.Now()
	fill(b, s, b.N, t0)
	b.ResetTimer()
	cpu0 := cpuTime(b)
	done := 0
	for done < b.N {
		ds, err := s.Claim(context.Background(), "slack", "w", 32, time.Minute, t0)
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) == 0 {
			b.Fatalf("queue empty after %d of %d", done, b.N)
		}
		for _, d := range ds {
			o := store.Outcome{State: store.Delivered, Attempt: store.Attempt{StartedAt: t0, Duration: time.Millisecond, Result: "success", StatusCode: 200}}
			if err := s.Finish(context.Background(), d.ID, "w", o); err != nil {
				b.Fatal(err)
			}
		}
		done += len(ds)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	reportCPU(b, cpu0)
}

// fill queues n deliveries for sink "slack" in a few large transactions.
func fill(b *testing.B, s *Store, n int, received time.Time) {
	b.Helper()
	for start := 0; start < n; start += 1000 {
		batch := make([]*store.IngestRequest, 0, 1000)
		for i := start; i < min(n, start+1000); i++ {
			batch = append(batch, &store.IngestRequest{
				Call:       &store.Call{ID: int64(i + 1), ReceivedAt: received, Raw: benchRaw},
				Deliveries: []store.NewDelivery{{Rule: "r", Sink: "slack", Message: []byte(`{"text":"hot lead"}`)}},
			})
		}
		if err := s.commitBatch(batch); err != nil {
			b.Fatal(err)
		}
		for _, r := range batch {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkDeliverUnderIngest measures queue bookkeeping while webhooks pour in, as the relay does
// under load: 32 callers ingest calls continuously (for another sink) while 4 workers, like a sink
// with concurrency 4, each claim one delivery and finish it, until b.N deliveries are done. It
// reports deliveries/s and the ingests/s achieved meanwhile.
func BenchmarkDeliverUnderIngest(b *testing.B) {
	s := benchStore(b, Options{})
	t0 := time.Now()
	fill(b, s, b.N, t0)
	ctx, stop := context.WithCancel(context.Background())
	var ingested atomic.Int64
	next := atomic.Int64{}
	next.Store(int64(b.N) + 1)
	ingestDone := make(chan struct{})
	var running atomic.Int32
	ds := []store.NewDelivery{{Rule: "r", Sink: "other", Message: []byte(`{"text":"hot lead"}`)}}
	b.ResetTimer()
	for range 32 {
		running.Add(1)
		go func() {
			defer func() {
				if running.Add(-1) == 0 {
					close(ingestDone)
				}
			}()
			for ctx.Err() == nil {
				c := &store.Call{ID: next.Add(1), ReceivedAt: time.Now(), Status: "completed", Raw: benchRaw}
				if _, err := s.Ingest(ctx, c, ds); err == nil {
					ingested.Add(1)
				}
			}
		}()
	}
	var delivered atomic.Int64
	workersDone := make(chan struct{}, 4)
	for range 4 {
		go func() {
			defer func() { workersDone <- struct{}{} }()
			o := store.Outcome{State: store.Delivered, Attempt: store.Attempt{StartedAt: t0, Duration: time.Millisecond, Result: "success", StatusCode: 200}}
			for delivered.Load() < int64(b.N) {
				got, err := s.Claim(context.Background(), "slack", "w", 1, time.Minute, t0)
				if err != nil {
					b.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				if err := s.Finish(context.Background(), got[0].ID, "w", o); err != nil {
					b.Error(err)
					return
				}
				delivered.Add(1)
			}
		}()
	}
	for range 4 {
		<-workersDone
	}
	elapsed := b.Elapsed()
	stop()
	<-ingestDone
	b.ReportMetric(float64(delivered.Load())/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(ingested.Load())/elapsed.Seconds(), "ingests/s")
}

// BenchmarkClaimFinishWorker measures the queue overhead per delivery as a dispatch worker with
// concurrency 16 pays it against a backlog: one Claim for its 16 free slots, then the 16 Finish calls
// at once (each delivery is sent on its own goroutine), which the store commits together.
func BenchmarkClaimFinishWorker(b *testing.B) {
	s := benchStore(b, Options{})
	t0 := time.Now()
	fill(b, s, b.N, t0)
	o := store.Outcome{State: store.Delivered, Attempt: store.Attempt{StartedAt: t0, Duration: time.Millisecond, Result: "success", StatusCode: 200}}
	b.ResetTimer()
	cpu0 := cpuTime(b)
	done := 0
	for done < b.N {
		ds, err := s.Claim(context.Background(), "slack", "w", 16, time.Minute, t0)
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) == 0 {
			b.Fatalf("queue empty after %d of %d", done, b.N)
		}
		errs := make(chan error, len(ds))
		for _, d := range ds {
			go func() { errs <- s.Finish(context.Background(), d.ID, "w", o) }()
		}
		for range ds {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		done += len(ds)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	reportCPU(b, cpu0)
}
