package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// TestRelayEndToEnd runs a whole relay: real traffic in, deliveries out to a log sink and a fake CRM,
// then checks the metrics, their lint, and that no secret leaked.
func TestRelayEndToEnd(t *testing.T) {
	crm := newFakeCRM(t)
	r := startRelay(t, relayConfig, crm.srv.URL)

	traffic := []struct {
		name       string
		path       string
		token      string
		body       string
		wantStatus int
		wantReply  string
	}{
		{"hot lead", "/webhooks/intellixent", ingestToken,
			`{"id": 1001, "status": "completed", "customer_phone": "+15550001111", "duration": 125, "extracted_variables": {"lead_quality": "high"}}`,
			http.StatusAccepted, `{"call_id":1001,"matched":["hot-leads"],"deliveries":2}`},
		{"duplicate", "/webhooks/intellixent", ingestToken,
			`{"id": 1001, "duration": 125, "status": "completed", "customer_phone": "+15550001111", "extracted_variables": {"lead_quality": "high"}}`,
			http.StatusOK, `{"call_id":1001,"duplicate":true}`},
		{"failed call with query token", "/webhooks/intellixent?token=" + ingestToken, "",
			`{"id": 1002, "status": "failed", "customer_phone": null}`,
			http.StatusAccepted, `{"call_id":1002,"matched":["failed-calls"],"deliveries":1}`},
		{"unmatched", "/webhooks/intellixent", ingestToken,
			`{"id": 1003, "status": "completed", "extracted_variables": {"lead_quality": "low"}, "transcript": "plain text"}`,
			http.StatusAccepted, `{"call_id":1003,"matched":[],"deliveries":0}`},
		{"wrong token", "/webhooks/intellixent", "not-the-token", `{"id": 1004}`,
			http.StatusUnauthorized, ""},
		{"bad JSON", "/webhooks/intellixent", ingestToken, `{"id": 1005`,
			http.StatusBadRequest, ""},
		{"invalid id", "/webhooks/intellixent", ingestToken, `{"id": "1006"}`,
			http.StatusBadRequest, `{"error":"field \"id\": must be a positive integer"}`},
	}
	for _, tt := range traffic {
		status, raw := r.request(http.MethodPost, tt.path, tt.token, tt.body)
		if status != tt.wantStatus {
			t.Errorf("%s: status = %d, want %d (body %s)", tt.name, status, tt.wantStatus, raw)
		}
		if got := strings.TrimSpace(string(raw)); tt.wantReply != "" && got != tt.wantReply {
			t.Errorf("%s: reply = %s, want %s", tt.name, got, tt.wantReply)
		}
	}

	r.waitDelivered(3)
	r.waitCounted("delivered", 3)
	select {
	case req := <-crm.reqs:
		checkCRMRequest(t, req)
	case <-time.After(10 * time.Second):
		t.Fatal("the CRM received nothing")
	}
	select {
	case req := <-crm.reqs:
		t.Errorf("the CRM received a second request %s: want exactly one (the duplicate queues nothing)", req.Body)
	default:
	}

	t.Run("admin shows the call", func(t *testing.T) {
		var out struct {
			Call       map[string]any
			Deliveries []map[string]any
		}
		r.admin("/api/calls/1001", &out)
		if len(out.Deliveries) != 2 {
			t.Fatalf("deliveries = %v, want 2", out.Deliveries)
		}
		for _, d := range out.Deliveries {
			if d["state"] != "delivered" {
				t.Errorf("delivery %v: state %v, want delivered", d["id"], d["state"])
			}
			if h, _ := d["history"].([]any); len(h) != 1 {
				t.Errorf("delivery %v: history %v, want one attempt", d["id"], d["history"])
			}
		}
	})

	t.Run("health and readiness", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			if status, raw := r.request(http.MethodGet, path, "", ""); status != http.StatusOK {
				t.Errorf("GET %s: status %d (%s), want 200", path, status, raw)
			}
		}
	})

	text, mfs := r.scrape()
	t.Run("metrics", func(t *testing.T) { checkMetrics(t, mfs) })
	t.Run("promlint", func(t *testing.T) {
		problems, err := promlint.New(strings.NewReader(text)).Lint()
		if err != nil {
			t.Fatalf("lint: %v", err)
		}
		for _, p := range problems {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	})
	t.Run("no secret leaks", func(t *testing.T) {
		if err := r.stop(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		logs := r.logs.String()
		if !strings.Contains(logs, "switchboard started") || !strings.Contains(logs, "1001") {
			t.Fatalf("captured logs look empty; the leak check would prove nothing:\n%s", logs)
		}
		for _, secret := range []string{ingestToken, adminToken, crmHeader, crmPath} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs contain the secret %q:\n%s", secret, logs)
			}
			if strings.Contains(text, secret) {
				t.Errorf("/metrics contains the secret %q", secret)
			}
		}
	})
}

// checkCRMRequest checks what the webhook sink sent.
func checkCRMRequest(t *testing.T, req crmRequest) {
	t.Helper()
	if req.Path != crmPath {
		t.Errorf("CRM path = %q, want %q", req.Path, crmPath)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+crmHeader {
		t.Errorf("CRM Authorization = %q, want the configured header", got)
	}
	if got := req.Header.Get("Idempotency-Key"); got != "1001-hot-leads-1" {
		t.Errorf("Idempotency-Key = %q, want 1001-hot-leads-1", got)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatalf("CRM body %s: %v", req.Body, err)
	}
	want := map[string]any{"phone": "+15550001111", "duration_seconds": float64(125), "source": "intellixent"}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("CRM body = %v, want %v", body, want)
	}
}

// series describes one expected series: its labels and value (for histograms, the sample count).
type series struct {
	labels map[string]string
	value  float64
}

func checkMetrics(t *testing.T, mfs map[string]*dto.MetricFamily) {
	counter, gauge, histogram := dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_HISTOGRAM
	l := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		typ    dto.MetricType
		labels []string
		want   []series
	}{
		{"switchboard_webhooks_received_total", counter, []string{"outcome"}, []series{
			{l("outcome", "accepted"), 3}, {l("outcome", "duplicate"), 1}, {l("outcome", "rejected"), 3}}},
		{"switchboard_webhook_rejections_total", counter, []string{"reason"}, []series{
			{l("reason", "unauthorized"), 1}, {l("reason", "bad_json"), 1}, {l("reason", "invalid"), 1},
			{l("reason", "too_large"), 0}, {l("reason", "storage"), 0}}},
		{"switchboard_ingest_duration_seconds", histogram, nil, []series{{l(), 7}}},
		{"switchboard_rule_matches_total", counter, []string{"rule"}, []series{
			{l("rule", "hot-leads"), 1}, {l("rule", "failed-calls"), 1}}},
		{"switchboard_calls_unmatched_total", counter, nil, []series{{l(), 1}}},
		{"switchboard_delivery_attempts_total", counter, []string{"reason", "result", "sink"}, []series{
			{l("sink", "crm", "result", "success", "reason", ""), 1},
			{l("sink", "sales-log", "result", "success", "reason", ""), 2},
			{l("sink", "crm", "result", "retry", "reason", "server_error"), 0},
			{l("sink", "crm", "result", "permanent", "reason", "auth"), 0}}},
		{"switchboard_deliveries_total", counter, []string{"outcome", "sink"}, []series{
			{l("sink", "crm", "outcome", "delivered"), 1}, {l("sink", "sales-log", "outcome", "delivered"), 2},
			{l("sink", "crm", "outcome", "dead"), 0}, {l("sink", "sales-log", "outcome", "dead"), 0}}},
		{"switchboard_delivery_duration_seconds", histogram, []string{"sink"}, []series{
			{l("sink", "crm"), 1}, {l("sink", "sales-log"), 2}}},
		{"switchboard_delivery_latency_seconds", histogram, []string{"sink"}, []series{
			{l("sink", "crm"), 1}, {l("sink", "sales-log"), 2}}},
		{"switchboard_queue_deliveries", gauge, []string{"sink", "state"}, []series{
			{l("sink", "crm", "state", "pending"), 0}, {l("sink", "crm", "state", "retrying"), 0},
			{l("sink", "crm", "state", "dead"), 0}, {l("sink", "sales-log", "state", "pending"), 0},
			{l("sink", "sales-log", "state", "retrying"), 0}, {l("sink", "sales-log", "state", "dead"), 0}}},
		{"switchboard_queue_oldest_pending_age_seconds", gauge, []string{"sink"}, []series{
			{l("sink", "crm"), 0}, {l("sink", "sales-log"), 0}}},
		{"switchboard_config_last_reload_successful", gauge, nil, []series{{l(), 1}}},
		{"switchboard_config_last_reload_success_timestamp_seconds", gauge, nil, nil},
		{"switchboard_build_info", gauge, []string{"goversion", "version"}, []series{
			{l("version", buildVersion, "goversion", runtime.Version()), 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mf := mfs[tt.name]
			if mf == nil {
				t.Fatalf("missing from /metrics")
			}
			if mf.GetType() != tt.typ {
				t.Errorf("type = %s, want %s", mf.GetType(), tt.typ)
			}
			if mf.GetHelp() == "" {
				t.Errorf("no HELP text")
			}
			for _, m := range mf.Metric {
				var names []string
				for _, lp := range m.Label {
					names = append(names, lp.GetName())
				}
				slices.Sort(names)
				if !slices.Equal(names, tt.labels) && !(len(names) == 0 && len(tt.labels) == 0) {
					t.Errorf("series %v has labels %v, want %v", m.Label, names, tt.labels)
				}
			}
			for _, w := range tt.want {
				m := find(mf, w.labels)
				if m == nil {
					t.Errorf("no series %v", w.labels)
					continue
				}
				var got float64
				switch tt.typ {
				case counter:
					got = m.GetCounter().GetValue()
				case gauge:
					got = m.GetGauge().GetValue()
				case histogram:
					got = float64(m.GetHistogram().GetSampleCount())
				}
				if got != w.value {
					t.Errorf("series %v = %v, want %v", w.labels, got, w.value)
				}
			}
		})
	}
	t.Run("reload timestamp", func(t *testing.T) {
		ts := gaugeValue(t, mfs, "switchboard_config_last_reload_success_timestamp_seconds")
		if now := float64(time.Now().Unix()); ts <= 0 || ts > now {
			t.Errorf("last reload success = %v, want a time in the past (now %v)", ts, now)
		}
	})
	t.Run("go and process collectors", func(t *testing.T) {
		for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
			if mfs[name] == nil {
				t.Errorf("%s missing from /metrics", name)
			}
		}
	})
}

// find returns the series of mf whose labels are exactly want.
func find(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	for _, m := range mf.Metric {
		got := map[string]string{}
		for _, lp := range m.Label {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) == len(want) && fmt.Sprint(got) == fmt.Sprint(want) {
			return m
		}
	}
	return nil
}
