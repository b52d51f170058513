package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/store"
)

// failingFinish is a store whose Finish fails as on a full disk, and says when it was called.
type failingFinish struct {
	store.Store
	called chan struct{}
	once   sync.Once
}

func (f *failingFinish) Finish(context.Context, int64, string, store.Outcome) error {
	f.once.Do(func() { close(f.called) })
	return errors.New("sqlite: database or disk is full")
}

// TestUnrecordedOutcomeIsNotReported: when the store cannot commit an attempt's outcome, the
// delivery is neither logged nor counted as delivered or dead; the log says the outcome was not
// recorded and that the delivery will be retried.
func TestUnrecordedOutcomeIsNotReported(t *testing.T) {
	tests := []struct {
		name    string
		send    error
		outcome string
	}{
		{name: "would be delivered", send: nil, outcome: "delivered"},
		{name: "would be dead", send: sinks.Permanent(sinks.ReasonClientError, errors.New("400 Bad Request")), outcome: "dead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &failingFinish{Store: openStore(t), called: make(chan struct{})}
			var logs sinktest.Buffer
			sink := &fakeSink{send: func(context.Context, *sinks.Delivery) error { return tt.send }}
			d, m := newDispatcher(st, Options{Poll: 10 * time.Millisecond, Lease: time.Hour,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			d.Apply(map[string]*Target{"s": target("s", sink, 1)})
			ids := enqueue(t, st, "s", 1)
			stop, _ := start(t, d)
			<-st.called
			stop()

			for _, outcome := range []string{"delivered", "dead"} {
				if n := testutil.ToFloat64(m.Outcomes.WithLabelValues("s", outcome)); n != 0 {
					t.Errorf("deliveries_total{outcome=%s} = %v, want 0: the outcome was not recorded", outcome, n)
				}
			}
			var latency dto.Metric
			if err := m.Latency.WithLabelValues("s").(prometheus.Histogram).Write(&latency); err != nil {
				t.Fatal(err)
			}
			if n := latency.GetHistogram().GetSampleCount(); n != 0 {
				t.Errorf("delivery_latency_seconds count = %d, want 0", n)
			}
			out := logs.String()
			if !strings.Contains(out, `level=ERROR msg="delivery outcome not recorded: it will be retried after the lease expires"`) ||
				!strings.Contains(out, "outcome="+tt.outcome) || !strings.Contains(out, "disk is full") {
				t.Errorf("log:\n%s\nwant an error saying the %s outcome was not recorded, with the store's error", out, tt.outcome)
			}
			for _, claim := range []string{`msg=delivered`, `msg="delivery dead"`} {
				if strings.Contains(out, claim) {
					t.Errorf("log:\n%s\nmust not claim %s", out, claim)
				}
			}
			if got := get(t, st, ids[0]); got.State != store.InFlight {
				t.Errorf("delivery state = %q, want in_flight until its lease expires", got.State)
			}
		})
	}
}
