package dispatch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

func TestWorkerOutcomes(t *testing.T) {
	tests := []struct {
		name string
		// send answers attempt n (1 for the first).
		send         func(n int) error
		wantState    store.State
		wantAttempts int
		wantResults  []string
		wantReason   string
		wantOutcome  string
	}{
		{name: "delivered at once", send: func(int) error { return nil },
			wantState: store.Delivered, wantAttempts: 1, wantResults: []string{"success"}, wantOutcome: "delivered"},
		{name: "delivered after a retry", send: func(n int) error {
			if n == 1 {
				return sinks.StatusError(503, 0, "")
			}
			return nil
		}, wantState: store.Delivered, wantAttempts: 2, wantResults: []string{"retry", "success"}, wantOutcome: "delivered"},
		{name: "permanent failure is dead at once", send: func(int) error { return sinks.StatusError(404, 0, "") },
			wantState: store.Dead, wantAttempts: 1, wantResults: []string{"permanent"}, wantReason: "client_error", wantOutcome: "dead"},
		{name: "gives up after max_attempts", send: func(int) error { return sinks.StatusError(500, 0, "") },
			wantState: store.Dead, wantAttempts: 3, wantResults: []string{"retry", "retry", "permanent"}, wantReason: "server_error", wantOutcome: "dead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			sink := &fakeSink{send: func(_ context.Context, d *sinks.Delivery) error { return tt.send(d.Attempt) }}
			d, m := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
			d.Apply(map[string]*Target{"s": target("s", sink, 2)})
			ids := enqueue(t, st, "s", 1)
			stop, _ := start(t, d)
			waitState(t, st, tt.wantState, ids...)
			stop() // the outcome is stored before it is counted: let the worker finish counting

			got := get(t, st, ids[0])
			if got.Attempts != tt.wantAttempts || got.LastReason != tt.wantReason {
				t.Errorf("delivery: attempts %d reason %q, want %d %q", got.Attempts, got.LastReason, tt.wantAttempts, tt.wantReason)
			}
			as, err := st.Attempts(context.Background(), ids[0])
			if err != nil {
				t.Fatal(err)
			}
			var results []string
			for _, a := range as {
				results = append(results, a.Result)
			}
			if fmt.Sprint(results) != fmt.Sprint(tt.wantResults) {
				t.Errorf("attempt results = %v, want %v", results, tt.wantResults)
			}
			if got := testutil.ToFloat64(m.Outcomes.WithLabelValues("s", tt.wantOutcome)); got != 1 {
				t.Errorf("deliveries_total{outcome=%q} = %v, want 1", tt.wantOutcome, got)
			}
			sent := sink.received()
			if len(sent) != tt.wantAttempts {
				t.Fatalf("Send called %d times, want %d", len(sent), tt.wantAttempts)
			}
			last := sent[len(sent)-1]
			if last.IdempotencyKey() != fmt.Sprintf("%d-r-0", last.CallID) || last.ID != ids[0] || last.Attempt != tt.wantAttempts {
				t.Errorf("last Send got delivery %+v, want id %d attempt %d with key <call>-r-0", last, ids[0], tt.wantAttempts)
			}
			var text string
			if _, err := last.Message.Get("text", &text); err != nil || !strings.HasPrefix(text, "call ") {
				t.Errorf("message text = %q, want the stored message", text)
			}
		})
	}
}

func TestWorkerDeliversMany(t *testing.T) {
	st := openStore(t)
	sink := &fakeSink{}
	d, m := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
	d.Apply(map[string]*Target{"s": target("s", sink, 4)})
	ids := append(enqueue(t, st, "s", 7), enqueue(t, st, "s", 6)...)
	stop, _ := start(t, d)
	waitState(t, st, store.Delivered, ids...)
	stop() // outcomes are stored before they are counted: let the workers finish counting
	if got := sink.sent.Load(); got != 13 {
		t.Errorf("sent %d, want 13 (each delivery once)", got)
	}
	if got := testutil.ToFloat64(m.Attempts.WithLabelValues("s", "success", "")); got != 13 {
		t.Errorf("delivery_attempts_total{result=success} = %v, want 13", got)
	}
	if got := testutil.CollectAndCount(m.Latency); got != 1 {
		t.Errorf("delivery_latency_seconds series = %d, want 1", got)
	}
}

// TestSlowSinkDoesNotBlockOthers holds every Send of one sink until the end of the test; another sink
// must still deliver everything.
func TestSlowSinkDoesNotBlockOthers(t *testing.T) {
	st := openStore(t)
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	slow := &fakeSink{send: func(ctx context.Context, _ *sinks.Delivery) error {
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	fast := &fakeSink{}
	d, _ := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
	d.Apply(map[string]*Target{"slow": target("slow", slow, 2), "fast": target("fast", fast, 1)})
	slowIDs := enqueue(t, st, "slow", 5)
	fastIDs := enqueue(t, st, "fast", 5)
	stop, _ := start(t, d)
	<-started
	<-started // the slow sink is saturated
	waitState(t, st, store.Delivered, fastIDs...)
	if got := get(t, st, slowIDs[0]).State; got != store.InFlight {
		t.Errorf("slow delivery state = %q while its Send is blocked, want in_flight", got)
	}
	close(release)
	waitState(t, st, store.Delivered, slowIDs...)
	stop()
}

func TestConcurrencyLimit(t *testing.T) {
	const limit, total = 3, 12
	st := openStore(t)
	var cur, peak atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	sink := &fakeSink{send: func(ctx context.Context, _ *sinks.Delivery) error {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n == limit {
			once.Do(func() { close(release) }) // the limit is reached: let everything through
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	d, _ := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
	d.Apply(map[string]*Target{"s": target("s", sink, limit)})
	ids := enqueue(t, st, "s", total)
	start(t, d)
	waitState(t, st, store.Delivered, ids...)
	if got := peak.Load(); got != limit {
		t.Errorf("peak concurrent sends = %d, want %d (concurrency)", got, limit)
	}
}

// TestRateLimit gives a sink a budget of 2 per hour: 2 deliveries go out and the other 3 stay queued,
// never claimed (the worker takes a token before it claims), until shutdown.
func TestRateLimit(t *testing.T) {
	st := openStore(t)
	sink := &fakeSink{}
	tg := target("s", sink, 5)
	tg.Conf.RateLimit = &config.Rate{Events: 2, Per: time.Hour}
	d, m := newDispatcher(st, Options{Poll: 10 * time.Millisecond, Grace: time.Millisecond})
	d.Apply(map[string]*Target{"s": tg})
	ids := enqueue(t, st, "s", 5)
	stop, _ := start(t, d)
	waitFor(t, "2 deliveries sent", func() bool { return sink.sent.Load() == 2 })
	stop()
	if got := len(sink.received()); got != 2 {
		t.Errorf("Send called %d times, want 2 (the hour's budget)", got)
	}
	count := map[store.State]int{}
	for _, id := range ids {
		d := get(t, st, id)
		count[d.State]++
		if d.State == store.Pending && d.Attempts != 0 {
			t.Errorf("delivery %d: %d attempts, want 0 (a rate-limited delivery is not claimed)", id, d.Attempts)
		}
	}
	if count[store.Delivered] != 2 || count[store.Pending] != 3 {
		t.Errorf("states after shutdown = %v, want 2 delivered and 3 pending", count)
	}
	if got := testutil.ToFloat64(m.Attempts.WithLabelValues("s", "success", "")); got != 2 {
		t.Errorf("delivery_attempts_total{result=success} = %v, want 2", got)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 20s waiting for %s", what)
		}
		<-tick.C
	}
}

// TestLiftedRateLimitAppliesAtOnce sends one delivery under a budget of 1 per hour, then lifts the limit
// with Apply (a config reload): the next delivery must go out at once, not after the old limiter's hour.
func TestLiftedRateLimitAppliesAtOnce(t *testing.T) {
	st := openStore(t)
	sink := &fakeSink{}
	limited := target("s", sink, 1)
	limited.Conf.RateLimit = &config.Rate{Events: 1, Per: time.Hour}
	d, _ := newDispatcher(st, Options{Poll: 10 * time.Millisecond})
	d.Apply(map[string]*Target{"s": limited})
	first := enqueue(t, st, "s", 1)
	start(t, d)
	waitState(t, st, store.Delivered, first...)
	d.Apply(map[string]*Target{"s": target("s", sink, 1)})
	second := enqueue(t, st, "s", 1)
	d.Notify("s")
	waitState(t, st, store.Delivered, second...)
}
