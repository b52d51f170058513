package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

// Secrets configured in the test relay. None of them may appear in logs or metrics.
const (
	ingestToken  = "relay-ingest-secret-111"
	adminToken   = "relay-admin-secret-222"
	crmHeader    = "crm-header-secret-333"
	crmPath      = "/hooks/crm-secret-path-444"
	buildVersion = "test-1.2.3"
)

// relayConfig is the relay's config; CRM_URL and DB are replaced per test. Rules: hot-leads (a log
// sink and the CRM webhook) and failed-calls (the log sink).
const relayConfig = `
server:
  webhook_path: /webhooks/intellixent
  auth:
    token: ` + ingestToken + `
  admin_token: ` + adminToken + `
  max_body_bytes: 64KiB
storage:
  path: DB
sinks:
  sales-log:
    type: log
  crm:
    type: webhook
    url: CRM_URL` + crmPath + `
    headers: { Authorization: "Bearer ` + crmHeader + `" }
    timeout: 5s
defaults:
  retry: { max_attempts: 3, initial_backoff: 10ms, max_backoff: 10ms, max_age: 1h }
rules:
  - name: hot-leads
    when: status == "completed" && extracted_variables.lead_quality == "high"
    actions:
      - sink: sales-log
        text: 'Hot lead {{ customer_phone ?? "unknown" }}'
      - sink: crm
        body:
          phone: "{{ customer_phone }}"
          duration_seconds: "{{ duration }}"
          source: intellixent
  - name: failed-calls
    when: status in ["failed", "busy"]
    actions:
      - sink: sales-log
        text: "Call {{ id }} ended {{ status }}"
`

// crmRequest is one request the fake CRM received.
type crmRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// fakeCRM is a webhook receiver on loopback; every request is sent on its channel.
type fakeCRM struct {
	srv  *httptest.Server
	reqs chan crmRequest
	// status is the HTTP status the CRM answers; 0 means 200.
	status atomic.Int64
	// hold makes the CRM never answer: each request waits until its client gives up.
	hold atomic.Bool
}

func newFakeCRM(t *testing.T) *fakeCRM {
	t.Helper()
	c := &fakeCRM{reqs: make(chan crmRequest, 100)}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.reqs <- crmRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		if c.hold.Load() {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if code := int(c.status.Load()); code != 0 {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"error":"missing field phone_e164"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// relay is a Switchboard started in process with Run.
type relay struct {
	t      *testing.T
	base   string
	dir    string
	cfg    string // config file path
	db     string
	logs   *sinktest.Buffer
	reload chan struct{}
	cancel context.CancelFunc
	done   chan error
}

// writeConfig writes yml as the relay's config file, with CRM_URL and DB filled in.
func writeConfig(t *testing.T, path, yml, crmURL, db string) {
	t.Helper()
	yml = strings.ReplaceAll(yml, "CRM_URL", crmURL)
	yml = strings.ReplaceAll(yml, "path: DB", "path: "+db)
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
}

// startRelay writes yml and runs a relay on a loopback listener until the test ends.
func startRelay(t *testing.T, yml, crmURL string) *relay {
	t.Helper()
	dir := t.TempDir()
	r := &relay{t: t, dir: dir, cfg: filepath.Join(dir, "switchboard.yaml"), db: filepath.Join(dir, "data", "sb.db"),
		logs: &sinktest.Buffer{}, reload: make(chan struct{})}
	writeConfig(t, r.cfg, yml, crmURL, r.db)
	r.start(5 * time.Second)
	return r
}

// start runs the relay (again) on a new loopback listener, with the given shutdown grace, until stop
// or the end of the test.
func (r *relay) start(grace time.Duration) {
	t := r.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	r.cancel, r.done = cancel, done
	ready := make(chan net.Addr, 1)
	logger := newTestLogger(r.logs)
	go func() {
		done <- Run(ctx, Options{
			ConfigPath: r.cfg, Logger: logger, Listener: ln, Reload: r.reload,
			Ready: func(a net.Addr) { ready <- a }, Version: buildVersion, ShutdownGrace: grace,
		})
	}()
	select {
	case a := <-ready:
		r.base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("Run returned before it was ready: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err, ok := <-done; ok && err != nil {
			t.Errorf("Run = %v, want nil after a clean shutdown", err)
		}
	})
}

// newTestLogger logs everything, down to debug, to w.
func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// stop cancels the relay started last and returns Run's result; a second stop returns nil.
func (r *relay) stop() error {
	r.cancel()
	err, ok := <-r.done
	if ok {
		close(r.done)
	}
	return err
}

// request sends a request and returns the status and body.
func (r *relay) request(method, path, token string, body string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, raw
}

// post delivers a webhook with the ingest token and decodes the JSON answer.
func (r *relay) post(body string) (int, map[string]any) {
	r.t.Helper()
	status, raw := r.request(http.MethodPost, "/webhooks/intellixent", ingestToken, body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		r.t.Fatalf("webhook answer %q is not JSON: %v", raw, err)
	}
	return status, out
}

// admin GETs an admin route and decodes the JSON answer into out.
func (r *relay) admin(path string, out any) {
	r.t.Helper()
	status, raw := r.request(http.MethodGet, path, adminToken, "")
	if status != http.StatusOK {
		r.t.Fatalf("GET %s: status %d (%s)", path, status, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
}

// waitDelivered polls the admin API until n deliveries are delivered.
func (r *relay) waitDelivered(n int) {
	r.t.Helper()
	r.waitState("delivered", n)
}

// waitState polls the admin API until n deliveries are in state.
func (r *relay) waitState(state string, n int) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var out struct{ Deliveries []map[string]any }
		r.admin("/api/deliveries?state="+state, &out)
		if len(out.Deliveries) >= n {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d deliveries %s after 20s, want %d; logs:\n%s", len(out.Deliveries), state, n, r.logs)
		}
		<-tick.C
	}
}

// waitCounted polls /metrics until this run counted n outcomes (switchboard_deliveries_total summed
// over sinks; outcome "delivered" or "dead"). A worker stores an outcome, then counts it, so a scrape
// right after waitState may not show it yet.
func (r *relay) waitCounted(outcome string, n int) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for r.outcomesCounted(outcome) < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("%d deliveries counted %s after 20s, want %d", r.outcomesCounted(outcome), outcome, n)
		}
		<-tick.C
	}
}

// outcomesCounted sums switchboard_deliveries_total{outcome=outcome} over every sink.
func (r *relay) outcomesCounted(state string) int {
	_, mfs := r.scrape()
	total := 0.0
	if mf := mfs["switchboard_deliveries_total"]; mf != nil {
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "outcome" && l.GetValue() == state {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(total)
}

// scrape returns /metrics as text and parsed.
func (r *relay) scrape() (string, map[string]*dto.MetricFamily) {
	r.t.Helper()
	status, raw := r.request(http.MethodGet, "/metrics", "", "")
	if status != http.StatusOK {
		r.t.Fatalf("GET /metrics: status %d", status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		r.t.Fatalf("parse /metrics: %v", err)
	}
	return string(raw), mfs
}

// gaugeValue returns the value of an unlabelled gauge.
func gaugeValue(t *testing.T, mfs map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	mf := mfs[name]
	if mf == nil || len(mf.Metric) != 1 {
		t.Fatalf("%s: want exactly one series", name)
	}
	return mf.Metric[0].GetGauge().GetValue()
}
