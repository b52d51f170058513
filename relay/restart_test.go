package relay

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// TestShutdownInterruptsStuckDeliveryAndRestartSendsIt stops a relay while its CRM never answers: Run
// returns nil after the grace period, the delivery is recorded as pending (interrupted), and a relay
// started again on the same storage delivers it.
func TestShutdownInterruptsStuckDeliveryAndRestartSendsIt(t *testing.T) {
	crm := newFakeCRM(t)
	crm.hold.Store(true)
	r := startRelay(t, relayConfig, crm.srv.URL)
	if err := r.stop(); err != nil { // restart with a short grace
		t.Fatalf("Run = %v, want nil", err)
	}
	r.start(100 * time.Millisecond)

	status, body := r.post(`{"id": 3001, "status": "completed", "extracted_variables": {"lead_quality": "high"}}`)
	if status != http.StatusAccepted {
		t.Fatalf("post: status %d (%v)", status, body)
	}
	<-crm.reqs // the CRM holds the request
	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v, want nil after the grace period", err)
	}

	st, err := sqlite.Open(r.db, sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{CallID: 3001, Sink: "crm"})
	st.Close()
	if err != nil || len(ds) != 1 {
		t.Fatalf("crm deliveries = %v (err %v), want 1", ds, err)
	}
	if d := ds[0]; d.State != store.Pending || !strings.Contains(d.LastError, "interrupted by shutdown") {
		t.Errorf("after shutdown: state %q error %q, want pending, interrupted by shutdown", d.State, d.LastError)
	}

	crm.hold.Store(false)
	r.start(5 * time.Second)
	r.waitDelivered(2) // the log sink's, before the shutdown, and the CRM's now
	req := <-crm.reqs
	if got := req.Header.Get("Idempotency-Key"); got != "3001-hot-leads-1" {
		t.Errorf("Idempotency-Key after restart = %q, want 3001-hot-leads-1", got)
	}
}
