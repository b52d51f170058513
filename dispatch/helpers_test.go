package dispatch

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// fakeSink is a sinks.Sink whose Send runs a function the test chooses and records what it was given.
type fakeSink struct {
	send func(ctx context.Context, d *sinks.Delivery) error

	mu   sync.Mutex
	got  []*sinks.Delivery
	sent atomic.Int64 // Sends that returned nil
}

func (f *fakeSink) Send(ctx context.Context, d *sinks.Delivery) error {
	f.mu.Lock()
	f.got = append(f.got, d)
	f.mu.Unlock()
	var err error
	if f.send != nil {
		err = f.send(ctx, d)
	}
	if err == nil {
		f.sent.Add(1)
	}
	return err
}

func (f *fakeSink) Preview(d *sinks.Delivery) (any, error) { return d.Message, nil }

// received returns the deliveries Send was called with.
func (f *fakeSink) received() []*sinks.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sinks.Delivery(nil), f.got...)
}

// target returns a Target for sink named name with the given concurrency and quick retries.
func target(name string, s sinks.Sink, concurrency int) *Target {
	return &Target{Conf: &config.Sink{Name: name, Type: "log", Delivery: config.DeliveryPolicy{
		Concurrency: concurrency,
		Retry:       config.Retry{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxAge: time.Hour},
	}}, Sink: s}
}

// openStore opens a real SQLite store in a temporary directory.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "queue.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// nextCallID makes call ids unique within a test binary.
var nextCallID atomic.Int64

// enqueue stores one call with n deliveries to sink and returns their ids.
func enqueue(t *testing.T, st store.Store, sink string, n int) []int64 {
	t.Helper()
	id := nextCallID.Add(1)
	ds := make([]store.NewDelivery, n)
	for i := range ds {
		ds[i] = store.NewDelivery{Rule: "r", Action: i, Sink: sink, Message: fmt.Appendf(nil, `{"text":"call %d action %d"}`, id, i)}
	}
	ids, err := st.Ingest(context.Background(), &store.Call{ID: id, Status: "completed", Matched: []string{"r"}, Raw: []byte(`{}`)}, ds)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return ids
}

// newDispatcher returns a dispatcher over st with fresh metrics.
func newDispatcher(st store.Store, opts Options) (*Dispatcher, *Metrics) {
	m := NewMetrics(prometheus.NewRegistry())
	opts.Store, opts.Metrics = st, m
	return New(opts), m
}

// start runs d until the returned stop is called (or the test ends); stop waits for Run to return.
func start(t *testing.T, d *Dispatcher) (stop func(), done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		d.Run(ctx)
	}()
	stop = func() {
		cancel()
		<-ch
	}
	t.Cleanup(stop)
	return stop, ch
}

// waitState polls the store until every delivery in ids is in state want.
func waitState(t *testing.T, st store.Store, want store.State, ids ...int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		all := true
		var last *store.Delivery
		for _, id := range ids {
			d, err := st.GetDelivery(context.Background(), id)
			if err != nil {
				t.Fatalf("get delivery %d: %v", id, err)
			}
			if d.State != want {
				all, last = false, d
				break
			}
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %d is %q after 20s (attempts %d, last error %q), want %q", last.ID, last.State, last.Attempts, last.LastError, want)
		}
		<-tick.C
	}
}

// get returns one stored delivery.
func get(t *testing.T, st store.Store, id int64) *store.Delivery {
	t.Helper()
	d, err := st.GetDelivery(context.Background(), id)
	if err != nil {
		t.Fatalf("get delivery %d: %v", id, err)
	}
	return d
}
