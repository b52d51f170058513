package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// The tokens of testConfig. They are test values, not secrets of any real system.
const (
	ingestToken = "ingest-token-1234"
	adminToken  = "admin-token-5678"
)

// testConfig has two log sinks and three rules. The hot rule's second action renders only when the
// call has lead.bonus, so a call without it stores that delivery dead with reason template; the risky
// rule's condition fails at run time for a busy call without lead.bonus.
const testConfig = `
server:
  webhook_path: /hook
  auth:
    token: ` + ingestToken + `
  max_body_bytes: 1KiB
  admin_token: ADMIN
sinks:
  chat:
    type: log
  crm:
    type: log
rules:
  - name: hot
    when: status == "completed"
    actions:
      - sink: chat
        text: "hot {{ id }}"
      - sink: crm
        text: "bonus {{ lead.bonus + 1 }}"
  - name: failed
    when: status == "failed"
    actions:
      - sink: chat
        text: "failed {{ id }}"
  - name: risky
    when: status == "busy" && lead.bonus + 1 > 2
    actions:
      - sink: chat
        text: "risky {{ id }}"
`

// harness is a Router over a real SQLite store, served on loopback.
type harness struct {
	t       *testing.T
	st      *sqlite.Store
	path    string
	metrics *Metrics
	router  *Router
	srv     *httptest.Server
}

// newHarness builds a Router from testConfig with the admin token set to admin ("" for none).
func newHarness(t *testing.T, admin string, reload func() error) *harness {
	t.Helper()
	return newHarnessWith(t, admin, func(o *Options) { o.Reload = reload })
}

// newHarnessWith is newHarness with options changed by opt before the Router is built.
func newHarnessWith(t *testing.T, admin string, opt func(*Options)) *harness {
	t.Helper()
	yml := strings.Replace(testConfig, "admin_token: ADMIN", "admin_token: \""+admin+"\"", 1)
	cfg, err := config.Parse("test.yaml", []byte(yml), nil)
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		t.Fatalf("compile rules: %v", err)
	}
	path := filepath.Join(t.TempDir(), "switchboard.db")
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	rt := &Runtime{Config: cfg, Rules: rs}
	m := NewMetrics(prometheus.NewRegistry())
	m.InitializeFor(rt)
	o := Options{Runtime: func() *Runtime { return rt }, Store: st, Metrics: m}
	opt(&o)
	r := New(o)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &harness{t: t, st: st, path: path, metrics: m, router: r, srv: srv}
}

// do sends a request with an optional bearer token and returns the status and the decoded JSON body.
func (h *harness) do(method, target, token string, body []byte) (int, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+target, bytes.NewReader(body))
	if err != nil {
		h.t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read response: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s %s: Content-Type = %q, want application/json", method, target, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s %s: body %q is not a JSON object: %v", method, target, raw, err)
	}
	return resp.StatusCode, out
}

// post delivers a webhook with the ingest token.
func (h *harness) post(body string) (int, map[string]any) {
	h.t.Helper()
	return h.do(http.MethodPost, "/hook", ingestToken, []byte(body))
}

// deliveries returns the stored deliveries of one call.
func (h *harness) deliveries(callID int64) []*store.Delivery {
	h.t.Helper()
	ds, err := h.st.ListDeliveries(context.Background(), store.DeliveryFilter{CallID: callID})
	if err != nil {
		h.t.Fatalf("list deliveries of call %d: %v", callID, err)
	}
	return ds
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t, "", nil)
	tests := []struct {
		name       string
		path       string
		closeStore bool
		wantStatus int
		wantKey    string
	}{
		{name: "healthz", path: "/healthz", wantStatus: http.StatusOK, wantKey: "status"},
		{name: "readyz with storage", path: "/readyz", wantStatus: http.StatusOK, wantKey: "status"},
		{name: "unknown route", path: "/nope", wantStatus: http.StatusNotFound, wantKey: "error"},
		{name: "readyz storage unreachable", path: "/readyz", closeStore: true, wantStatus: http.StatusServiceUnavailable, wantKey: "error"},
		{name: "healthz storage unreachable", path: "/healthz", closeStore: true, wantStatus: http.StatusOK, wantKey: "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.closeStore {
				if err := h.st.Close(); err != nil {
					t.Fatalf("close store: %v", err)
				}
			}
			status, body := h.do(http.MethodGet, tt.path, "", nil)
			if status != tt.wantStatus {
				t.Errorf("GET %s: status = %d, want %d (body %v)", tt.path, status, tt.wantStatus, body)
			}
			if _, ok := body[tt.wantKey]; !ok {
				t.Errorf("GET %s: body %v has no %q", tt.path, body, tt.wantKey)
			}
		})
	}
}

func TestReloadRoute(t *testing.T) {
	problems := errors.New("test.yaml:3: sinks.crm: bad\ntest.yaml:9: rules[0].when: worse")
	tests := []struct {
		name         string
		reload       func() error
		wantStatus   int
		wantProblems []any
	}{
		{name: "accepted", reload: func() error { return nil }, wantStatus: http.StatusOK},
		{name: "rejected lists every problem", reload: func() error { return problems }, wantStatus: http.StatusBadRequest,
			wantProblems: []any{"test.yaml:3: sinks.crm: bad", "test.yaml:9: rules[0].when: worse"}},
		{name: "not available", reload: nil, wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, adminToken, tt.reload)
			status, body := h.do(http.MethodPost, "/-/reload", adminToken, nil)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %v)", status, tt.wantStatus, body)
			}
			if tt.wantProblems != nil {
				got, _ := body["problems"].([]any)
				if len(got) != len(tt.wantProblems) {
					t.Fatalf("problems = %v, want %v", got, tt.wantProblems)
				}
				for i := range got {
					if got[i] != tt.wantProblems[i] {
						t.Errorf("problems[%d] = %v, want %v", i, got[i], tt.wantProblems[i])
					}
				}
			}
		})
	}
}
