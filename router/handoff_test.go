package router

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/dispatch"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// gatedSink is a sink whose sends report themselves on sent and then wait for a value on release.
type gatedSink struct {
	sent    chan *sinks.Delivery
	release chan struct{}
}

func (g *gatedSink) Send(ctx context.Context, d *sinks.Delivery) error {
	g.sent <- d
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gatedSink) Preview(d *sinks.Delivery) (any, error) { return d.Message, nil }

// TestIngestHandsOffFreshDeliveries: with a dispatcher's Reserve, a webhook's deliveries are stored
// leased and sent by their workers straight after the commit, with no claim (the workers never poll
// here); the reservations of a duplicate are cancelled, which frees their slots.
func TestIngestHandsOffFreshDeliveries(t *testing.T) {
	sink := &gatedSink{sent: make(chan *sinks.Delivery, 4), release: make(chan struct{})}
	h, d := newHandOffHarness(t, sink, nil)
	ready := time.NewTicker(time.Millisecond)
	defer ready.Stop()

	const call = `{"id": 101, "status": "completed", "lead": {"bonus": 1}}`
	if code, body := h.post(call); code != http.StatusAccepted {
		t.Fatalf("post: %d %v, want 202", code, body)
	}
	for range 2 {
		sd := <-sink.sent
		stored, err := h.st.GetDelivery(context.Background(), sd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.State != store.InFlight || stored.LeaseOwner == "" || stored.Attempts != 1 || sd.Attempt != 1 {
			t.Errorf("delivery %d being sent: stored %s owner %q attempts %d, sent as attempt %d; want in flight, leased, attempt 1",
				sd.ID, stored.State, stored.LeaseOwner, stored.Attempts, sd.Attempt)
		}
	}
	sink.release <- struct{}{}
	sink.release <- struct{}{}

	// A duplicate: its reservations are given back. Were a slot kept, the crm worker (concurrency 1)
	// would take no reservation again.
	for deadline := time.Now().Add(10 * time.Second); ; <-ready.C {
		if code, _ := h.post(call); code != http.StatusOK {
			t.Fatalf("post again: %d, want 200 duplicate", code)
		}
		if rv, ok := d.Reserve("crm"); ok {
			rv.Cancel()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the crm worker took no reservation within 10s of its send ending: a duplicate's reservation was kept")
		}
	}
}

// newHandOffHarness is a harness whose router hands fresh deliveries to a running dispatcher with the
// sinks chat and crm (concurrency 1, both sending through sink), ready to take reservations; wrap, when
// not nil, wraps the store the router ingests into. The dispatcher stops at the test's end.
func newHandOffHarness(t *testing.T, sink sinks.Sink, wrap func(store.Store) store.Store) (*harness, *dispatch.Dispatcher) {
	t.Helper()
	var d *dispatch.Dispatcher
	h := newHarnessWith(t, "", func(o *Options) {
		d = dispatch.New(dispatch.Options{Store: o.Store, Poll: time.Hour})
		targets := map[string]*dispatch.Target{}
		for _, name := range []string{"chat", "crm"} {
			targets[name] = &dispatch.Target{Sink: sink, Conf: &config.Sink{Name: name, Type: "log",
				Delivery: config.DeliveryPolicy{Concurrency: 1, Retry: config.Retry{MaxAttempts: 3}}}}
		}
		d.Apply(targets)
		o.Reserve = d.Reserve
		if wrap != nil {
			o.Store = wrap(o.Store)
		}
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the dispatcher did not stop within 10s: it waits for a reservation never handed or cancelled")
		}
	})
	// The workers take reservations once they run and know their sinks' states.
	ready := time.NewTicker(time.Millisecond)
	defer ready.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; <-ready.C {
		if rv, ok := d.Reserve("crm"); ok {
			rv.Cancel()
			return h, d
		}
		if time.Now().After(deadline) {
			t.Fatal("the dispatcher took no reservation within 10s")
		}
	}
}
