package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// testConfig has a sink of each kind with secrets that must never show, and two rules.
const testConfig = `
server:
  admin_token: ${ADMIN_TOKEN:-}
log:
  show_phone_numbers: ${SHOW_PHONES:-false}
sinks:
  sales-slack: { type: slack, webhook_url: "https://hooks.slack.com/services/T0/B0/SLACKSECRET" }
  crm:
    type: webhook
    url: "https://crm.example.com/hooks?key=URLSECRET"
    headers: { Authorization: "Bearer HEADERSECRET" }
  sales-email:
    type: email
    smtp: { host: smtp.example.com, username: relay, password: SMTPSECRET }
    from: "Switchboard <relay@example.com>"
  console: { type: log }
rules:
  - name: hot-leads
    when: status == "completed" && extracted_variables.lead_quality == "high"
    actions:
      - sink: sales-slack
        text: "Hot lead {{ input_variables.customer_name ?? customer_phone }}: {{ extracted_variables.summary }}"
      - sink: crm
        body: { phone: "{{ customer_phone }}", duration_seconds: "{{ duration }}" }
      - sink: sales-email
        to: [sales@example.com]
        subject: "Hot lead {{ id }}"
        text: "{{ formatted_transcript }}"
  - name: failed-calls
    when: status in ["failed", "busy"]
    actions:
      - sink: console
        text: "Call {{ id }} ended {{ status }}"
`

// t0 is the tests' "now".
var t0 = time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)

type env struct {
	t       *testing.T
	store   *sqlite.Store
	rt      *Runtime
	console *Console
	srv     *httptest.Server
	now     time.Time
}

// newEnv returns a console on a new SQLite store, served by an httptest server, with the given
// environment for the config (ADMIN_TOKEN, SHOW_PHONES).
func newEnv(t *testing.T, vars map[string]string) *env {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testConfig), func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "ui.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{t: t, store: s, rt: &Runtime{Config: cfg, Rules: rs}, now: t0}
	e.console = New(Options{Store: s, Runtime: func() *Runtime { return e.rt }, Now: func() time.Time { return e.now }})
	e.srv = httptest.NewServer(e.console)
	t.Cleanup(e.srv.Close)
	return e
}

// payload returns a call's JSON.
func payload(id int64, phone, status, quality, transcript string) string {
	turns, _ := json.Marshal([]map[string]any{
		{"text": "Hello, this is Sarah.", "sender": "bot", "timestamp": 1756812511.3},
		{"text": transcript, "sender": "human", "timestamp": 1756812514.1},
	})
	return fmt.Sprintf(`{"id":%d,"customer_phone":%q,"assistant_phone":"+19876543210","duration":125,"status":%q,
		"extracted_variables":{"lead_quality":%q,"summary":"Wants a demo"},"input_variables":{"customer_name":"John Doe"},
		"transcript":%s,"formatted_transcript":"AI: Hello\nCustomer: hi","recording_url":"https://rec.example.com/%d.mp4"}`,
		id, phone, status, quality, turns, id)
}

// ingest stores a call as the webhook handler does: decoded, evaluated, with its rendered deliveries.
func (e *env) ingest(body string, received time.Time) []int64 {
	e.t.Helper()
	c, err := call.Decode([]byte(body))
	if err != nil {
		e.t.Fatalf("decode: %v", err)
	}
	res := e.rt.Rules.Evaluate(c)
	sc := &store.Call{ID: c.ID, ReceivedAt: received, Status: c.Status, Matched: res.Matched, Raw: []byte(body), Duration: c.Duration}
	if c.CustomerPhone != nil {
		sc.CustomerPhone = *c.CustomerPhone
	}
	var ds []store.NewDelivery
	for _, a := range res.Actions {
		m, err := json.Marshal(a.Message)
		if err != nil {
			e.t.Fatal(err)
		}
		ds = append(ds, store.NewDelivery{Rule: a.Rule, Action: a.Index, Sink: a.Sink, Message: m})
	}
	ids, err := e.store.Ingest(e.t.Context(), sc, ds)
	if err != nil {
		e.t.Fatalf("ingest: %v", err)
	}
	return ids
}

// kill makes a delivery dead, as a sink failing permanently would.
func (e *env) kill(id int64) {
	e.t.Helper()
	d, err := e.store.GetDelivery(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	claimed, err := e.store.Claim(e.t.Context(), d.Sink, "test", 100, time.Hour, d.NextAttemptAt)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range claimed {
		o := store.Outcome{State: store.Pending, NextAttemptAt: d.NextAttemptAt.Add(time.Hour)}
		if c.ID == id {
			o = store.Outcome{State: store.Dead}
		}
		o.Attempt = store.Attempt{StartedAt: d.NextAttemptAt, Duration: 42 * time.Millisecond, Result: "permanent",
			StatusCode: 400, Reason: "client_error", Error: "HTTP 400: bad request"}
		if c.ID != id {
			o.Attempt.Result = "retry"
		}
		if err := e.store.Finish(e.t.Context(), c.ID, "test", o); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) state(id int64) store.State {
	e.t.Helper()
	d, err := e.store.GetDelivery(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.State
}

// client does not follow redirects, so tests see them.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path string, form url.Values, mod func(*http.Request)) response {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if mod != nil {
		mod(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) get(path string, mod func(*http.Request)) response { return e.do("GET", path, nil, mod) }

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the form token of a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form token in the page")
	}
	return m[1]
}

// withCookies adds cookies to a request.
func withCookies(cs ...*http.Cookie) func(*http.Request) {
	return func(r *http.Request) {
		for _, c := range cs {
			r.AddCookie(c)
		}
	}
}

func cookie(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
