package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// receiver is a loopback HTTP server answering as Slack or a CRM would, recording each request.
type receiver struct {
	srv    *httptest.Server
	status int
	answer string
	mu     sync.Mutex
	got    []*http.Request
	bodies []string
	// arrived receives a value for each request (up to its buffer, then requests stop waiting on it).
	arrived chan struct{}
}

func newReceiver(t *testing.T, status int, answer string) *receiver {
	r := &receiver{status: status, answer: answer, arrived: make(chan struct{}, 64)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.bodies = append(r.got, req), append(r.bodies, string(body))
		r.mu.Unlock()
		if strings.HasPrefix(r.answer, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(r.status)
		_, _ = io.WriteString(w, r.answer)
		select {
		case r.arrived <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() ([]*http.Request, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got, r.bodies
}

// smtpBox is a go-smtp backend keeping every message it accepts.
type smtpBox struct {
	mu   sync.Mutex
	msgs []string
	// arrived, when set, receives a value for each message accepted.
	arrived chan struct{}
}

func (b *smtpBox) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{box: b}, nil }

type smtpSession struct{ box *smtpBox }

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, string(data))
	s.box.mu.Unlock()
	if s.box.arrived != nil {
		s.box.arrived <- struct{}{}
	}
	return nil
}

func startSMTP(t *testing.T, box *smtpBox) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(box)
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

const sendTestSecret = "SECRETxyz123"

// sendTestConfig is a config whose sinks point at the fakes; its first test is a hot lead, and the
// failed-calls rule's when does not match it (send-test sends anyway).
func sendTestConfig(slackURL, crmURL, apiURL string, smtpPort int) string {
	return `sinks:
  slack: { type: slack, webhook_url: "` + slackURL + `/services/T0/B0/` + sendTestSecret + `" }
  slack-api: { type: slack, token: "xoxb-` + sendTestSecret + `", channel: "#sales", api_url: "` + apiURL + `" }
  crm: { type: webhook, url: "` + crmURL + `/hook?key=` + sendTestSecret + `", headers: { Authorization: "Bearer ` + sendTestSecret + `" } }
  mail: { type: email, smtp: { host: 127.0.0.1, port: ` + strconv.Itoa(smtpPort) + `, tls: none }, from: relay@example.com }
  console: { type: log }
rules:
  - name: failed-calls
    when: status == "failed"
    actions:
      - sink: slack
        text: "Call {{ id }} failed"
      - sink: slack-api
        text: "Call {{ id }} failed"
      - sink: crm
        body: { id: "{{ id }}", status: "{{ status }}" }
      - sink: mail
        to: ops@example.com
        subject: "Call {{ id }} failed"
        text: "see {{ id }}"
tests:
  - name: a hot lead
    call: { id: 77, status: completed }
    expect: { matched: [] }
`
}

func TestSendTest(t *testing.T) {
	okSlack := newReceiver(t, 200, "ok")
	goneSlack := newReceiver(t, 404, "no_service")
	crm := newReceiver(t, 201, `{"id": "lead-9"}`)
	api := newReceiver(t, 200, `{"ok": false, "error": "channel_not_found"}`)
	box := &smtpBox{}
	port := startSMTP(t, box)
	good := writeFile(t, "good.yaml", sendTestConfig(okSlack.srv.URL, crm.srv.URL, api.srv.URL, port))
	gone := writeFile(t, "gone.yaml", sendTestConfig(goneSlack.srv.URL, crm.srv.URL, api.srv.URL, port))
	untested := writeFile(t, "untested.yaml", strings.Split(sendTestConfig(okSlack.srv.URL, crm.srv.URL, api.srv.URL, port), "tests:")[0])
	payload := writeFile(t, "call.json", `{"id": 88, "status": "busy"}`)
	before := time.Now().Unix()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
		check      func(t *testing.T)
	}{
		{name: "slack webhook, from the first test, when not matching", args: []string{"--config", good, "--sink", "slack"}, wantCode: 0,
			wantStdout: []string{"sending a test message to slack (slack): rule failed-calls, action 0, rendered from test \"a hot lead\"", "answer: 200 ok", "delivered"},
			check: func(t *testing.T) {
				reqs, bodies := okSlack.requests()
				if len(reqs) != 1 || !strings.Contains(bodies[0], `"text":"[test] Call 77 failed"`) {
					t.Fatalf("slack got %d requests %q, want one with the [test] text", len(reqs), bodies)
				}
				checkTestKey(t, reqs[0], "77-failed-calls-0-test-", before)
			}},
		{name: "webhook, from --payload", args: []string{"--config", good, "--sink", "crm", "--payload", payload}, wantCode: 0,
			wantStdout: []string{"rendered from " + payload, `answer: 201 {"id": "lead-9"}`, "delivered"},
			check: func(t *testing.T) {
				reqs, bodies := crm.requests()
				if len(reqs) != 1 || bodies[0] != `{"id":88,"status":"busy"}` {
					t.Fatalf("crm got %q, want one request with the rendered body", bodies)
				}
				if h := reqs[0].Header.Get("X-Switchboard-Test"); h != "true" {
					t.Errorf("X-Switchboard-Test = %q, want true", h)
				}
				checkTestKey(t, reqs[0], "88-failed-calls-2-test-", before)
			}},
		{name: "email through real SMTP", args: []string{"--config", good, "--sink", "mail"}, wantCode: 0,
			wantStdout: []string{"delivered: the SMTP server accepted the message"},
			check: func(t *testing.T) {
				box.mu.Lock()
				defer box.mu.Unlock()
				if len(box.msgs) != 1 {
					t.Fatalf("SMTP got %d messages, want 1", len(box.msgs))
				}
				m, err := mail.ReadMessage(strings.NewReader(box.msgs[0]))
				if err != nil {
					t.Fatal(err)
				}
				if s := m.Header.Get("Subject"); s != "[test] Call 77 failed" {
					t.Errorf("Subject = %q, want the [test] prefix", s)
				}
				if id := m.Header.Get("Message-Id"); !strings.Contains(id, "77-failed-calls-3-test-") {
					t.Errorf("Message-ID = %q, want it built from the test idempotency key", id)
				}
			}},
		{name: "a sink no rule uses", args: []string{"--config", good, "--sink", "console"}, wantCode: 1,
			wantStderr: `no rule has an action for sink "console"`},
		{name: "slack answers 404", args: []string{"--config", gone, "--sink", "slack"}, wantCode: 1,
			wantStdout: []string{"answer: 404 no_service"}, wantStderr: "not delivered: "},
		{name: "slack web API answers ok:false", args: []string{"--config", good, "--sink", "slack-api"}, wantCode: 1,
			wantStdout: []string{"answer: 200 "}, wantStderr: "channel_not_found"},
		{name: "unknown sink", args: []string{"--config", good, "--sink", "slak"}, wantCode: 1, wantStderr: `no sink is named "slak"`},
		{name: "no payload and no tests", args: []string{"--config", untested, "--sink", "slack"}, wantCode: 1, wantStderr: "no payload"},
		{name: "no sink given", args: []string{"--config", good}, wantCode: 2, wantStderr: "--sink is required"},
		{name: "stray argument", args: []string{"--config", good, "--sink", "slack", "extra"}, wantCode: 2, wantStderr: "Usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"send-test"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q\nstdout: %s", code, errOut, tt.wantCode, tt.wantStderr, out)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q does not contain %q", out, w)
				}
			}
			if strings.Contains(out+errOut, sendTestSecret) {
				t.Errorf("a secret was printed:\n%s\n%s", out, errOut)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

// checkTestKey checks that a request's Idempotency-Key is prefix followed by a Unix time not before
// before.
func checkTestKey(t *testing.T, req *http.Request, prefix string, before int64) {
	t.Helper()
	key := req.Header.Get("Idempotency-Key")
	ts, ok := strings.CutPrefix(key, prefix)
	if n, err := strconv.ParseInt(ts, 10, 64); !ok || err != nil || n < before {
		t.Errorf("Idempotency-Key = %q, want %s<unix time ≥ %d>", key, prefix, before)
	}
}
