package relay

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// seriesValue returns the value of the series of a counter or gauge family with exactly labels.
func seriesValue(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		t.Fatalf("%s missing from /metrics", name)
	}
	m := find(mf, labels)
	if m == nil {
		t.Fatalf("%s has no series %v", name, labels)
	}
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// TestDeadLetterAndReplay has the CRM reject a delivery for good, checks that the dead letter is
// visible in the admin API and the metrics without leaking the CRM's secrets, then fixes the CRM and
// replays the delivery through the admin API.
func TestDeadLetterAndReplay(t *testing.T) {
	crm := newFakeCRM(t)
	crm.status.Store(http.StatusBadRequest)
	r := startRelay(t, relayConfig, crm.srv.URL)

	status, body := r.post(`{"id": 2001, "status": "completed", "customer_phone": "+15550002222", "extracted_variables": {"lead_quality": "high"}}`)
	if status != http.StatusAccepted {
		t.Fatalf("post: status %d (%v)", status, body)
	}
	r.waitState("dead", 1)
	r.waitDelivered(1) // the log sink's delivery of the same call
	r.waitCounted("dead", 1)
	r.waitCounted("delivered", 1)

	var dead struct{ Deliveries []map[string]any }
	r.admin("/api/deliveries?state=dead", &dead)
	d := dead.Deliveries[0]
	if d["sink"] != "crm" || d["call_id"] != float64(2001) || d["last_reason"] != "client_error" || d["last_status"] != float64(400) {
		t.Errorf("dead delivery = %v, want call 2001's crm delivery, client_error, status 400", d)
	}
	lastErr, _ := d["last_error"].(string)
	if !strings.Contains(lastErr, "400") {
		t.Errorf("last_error = %q, want it to give the CRM's status", lastErr)
	}
	raw, err := json.Marshal(dead)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{crmPath, crmHeader, ingestToken, adminToken} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("admin API shows the secret %q: %s", secret, raw)
		}
	}

	_, mfs := r.scrape()
	checks := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"dead counted", "switchboard_deliveries_total", map[string]string{"sink": "crm", "outcome": "dead"}, 1},
		{"permanent attempt counted", "switchboard_delivery_attempts_total",
			map[string]string{"sink": "crm", "result": "permanent", "reason": "client_error"}, 1},
		{"dead in the queue", "switchboard_queue_deliveries", map[string]string{"sink": "crm", "state": "dead"}, 1},
		{"log sink delivered", "switchboard_deliveries_total", map[string]string{"sink": "sales-log", "outcome": "delivered"}, 1},
	}
	for _, c := range checks {
		if got := seriesValue(t, mfs, c.metric, c.labels); got != c.want {
			t.Errorf("%s: %s%v = %v, want %v", c.name, c.metric, c.labels, got, c.want)
		}
	}

	crm.status.Store(0) // the CRM is fixed
	<-crm.reqs          // the rejected request
	id := strconv.FormatInt(int64(d["id"].(float64)), 10)
	status, rawReply := r.request(http.MethodPost, "/api/deliveries/"+id+"/retry", adminToken, "")
	if status != http.StatusOK || strings.TrimSpace(string(rawReply)) != `{"requeued":1}` {
		t.Fatalf("retry: status %d body %s, want 200 {\"requeued\":1}", status, rawReply)
	}
	r.waitDelivered(2)
	r.waitCounted("delivered", 2)
	req := <-crm.reqs
	if got := req.Header.Get("Idempotency-Key"); got != "2001-hot-leads-1" {
		t.Errorf("replayed Idempotency-Key = %q, want the original 2001-hot-leads-1", got)
	}
	var call struct{ Deliveries []map[string]any }
	r.admin("/api/calls/2001", &call)
	if h, _ := call.Deliveries[1]["history"].([]any); len(h) != 2 {
		t.Errorf("crm history = %v, want the dead attempt and the replayed one", call.Deliveries[1]["history"])
	}
	_, mfs = r.scrape()
	if got := seriesValue(t, mfs, "switchboard_deliveries_total", map[string]string{"sink": "crm", "outcome": "delivered"}); got != 1 {
		t.Errorf("deliveries_total{crm,delivered} after replay = %v, want 1", got)
	}
}

// TestFixSinkURLThenReplay checks what README's "How it works" promises: sink connection settings are
// read at delivery, so a dead letter replayed after a reload that fixed the sink's URL goes to the new
// URL, with the message rendered at ingest.
func TestFixSinkURLThenReplay(t *testing.T) {
	broken, fixed := newFakeCRM(t), newFakeCRM(t)
	broken.status.Store(http.StatusNotFound)
	r := startRelay(t, relayConfig, broken.srv.URL)
	if status, body := r.post(`{"id": 2101, "status": "completed", "customer_phone": "+15550003333", "extracted_variables": {"lead_quality": "high"}}`); status != http.StatusAccepted {
		t.Fatalf("post: status %d (%v)", status, body)
	}
	r.waitState("dead", 1)
	<-broken.reqs

	writeConfig(t, r.cfg, relayConfig, fixed.srv.URL, r.db)
	if status, raw := r.request(http.MethodPost, "/-/reload", adminToken, ""); status != http.StatusOK {
		t.Fatalf("reload: status %d (%s)", status, raw)
	}
	if status, raw := r.request(http.MethodPost, "/api/calls/2101/retry", adminToken, ""); status != http.StatusOK || !strings.Contains(string(raw), `"requeued":1`) {
		t.Fatalf("retry call: status %d (%s), want 200 with requeued 1", status, raw)
	}
	r.waitDelivered(2)
	req := <-fixed.reqs
	var got map[string]any
	if err := json.Unmarshal(req.Body, &got); err != nil || got["phone"] != "+15550003333" {
		t.Errorf("fixed CRM got %s (err %v), want the message rendered at ingest", req.Body, err)
	}
	select {
	case req := <-broken.reqs:
		t.Errorf("the old URL got a request after the reload: %s", req.Body)
	default:
	}
}
