package router

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/dispatch"
	"github.com/switchboard-relay/switchboard/store"
)

// panickyStore is a store whose Ingest panics.
type panickyStore struct{ store.Store }

func (panickyStore) Ingest(context.Context, *store.Call, []store.NewDelivery) ([]int64, error) {
	panic("ingest panics")
}

// TestIngestPanicGivesReservationsBack: a panic in the ingest (which net/http survives) must not keep
// the reservations taken for the webhook's deliveries, or the sink (concurrency 1 here) would never
// take one again.
func TestIngestPanicGivesReservationsBack(t *testing.T) {
	var d *dispatch.Dispatcher
	h := newHarnessWith(t, "", func(o *Options) {
		d = dispatch.New(dispatch.Options{Store: o.Store, Poll: time.Hour})
		targets := map[string]*dispatch.Target{}
		for _, name := range []string{"chat", "crm"} {
			targets[name] = &dispatch.Target{Sink: &gatedSink{}, Conf: &config.Sink{Name: name, Type: "log",
				Delivery: config.DeliveryPolicy{Concurrency: 1, Retry: config.Retry{MaxAttempts: 3}}}}
		}
		d.Apply(targets)
		o.Reserve = d.Reserve
		o.Store = panickyStore{o.Store}
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
	ready := time.NewTicker(time.Millisecond)
	defer ready.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; <-ready.C {
		if rv, ok := d.Reserve("crm"); ok {
			rv.Cancel()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dispatcher took no reservation within 10s")
		}
	}

	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/hook", bytes.NewBufferString(`{"id": 101, "status": "completed", "lead": {"bonus": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ingestToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("post: answered %d, want the connection dropped by the handler's panic", resp.StatusCode)
	}
	// The handler has returned (its panic dropped the connection): its deferred cancel has run.
	rv, ok := d.Reserve("crm")
	if !ok {
		t.Fatal("the crm sink (concurrency 1) takes no reservation after an ingest panicked: the webhook's reservation was kept")
	}
	rv.Cancel()
}
