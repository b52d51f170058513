package router

import (
	"bytes"
	"context"
	"net/http"
	"testing"

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
	h, d := newHandOffHarness(t, &gatedSink{}, func(st store.Store) store.Store { return panickyStore{st} })

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
