package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/relay"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// TestDeliversWhatThePreviousVersionStored opens a database written by the version before the sink
// descriptors (testdata/upgrade/v0.db, made by testdata/upgrade/genfixture.go with that version's
// code), whose messages have the JSON shape of its sinks.Message struct. Calls 102 (deliveries 1–5,
// dead before the upgrade) and 101 (deliveries 6–10, pending) each have one delivery per action:
// Slack, a CRM webhook with headers and a body, the CRM again with the call forwarded, an email and
// a log line. Today's relay must send every one, the dead ones once replayed, exactly as that
// version's sinks would have (testdata/upgrade/v0.sent.json, their Preview of each delivery).
func TestDeliversWhatThePreviousVersionStored(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "sb.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o750); err != nil {
		t.Fatal(err)
	}
	fixture, err := os.ReadFile(filepath.Join("testdata", "upgrade", "v0.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	var sent map[string]struct {
		Sink    string          `json:"sink"`
		Preview json.RawMessage `json:"preview"`
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "upgrade", "v0.sent.json"))
	if err != nil || json.Unmarshal(raw, &sent) != nil || len(sent) != 10 {
		t.Fatalf("read v0.sent.json: %v (%d deliveries, want 10)", err, len(sent))
	}

	slack := newReceiver(t, 200, "ok")
	crm := newReceiver(t, 200, `{"ok":true}`)
	box := &smtpBox{arrived: make(chan struct{}, 10)}
	port := startSMTP(t, box)
	cfg := writeFileIn(t, dir, "switchboard.yaml", `storage: {path: ./data/sb.db}
sinks:
  sales-slack: {type: slack, webhook_url: "`+slack.srv.URL+`/services/T0/B0/X", rate_limit: 100/s}
  crm: {type: webhook, url: "`+crm.srv.URL+`/hook"}
  mail: {type: email, smtp: {host: 127.0.0.1, port: `+strconv.Itoa(port)+`, tls: none}, from: "Relay <relay@example.com>"}
  audit: {type: log}
rules: []
`)
	if code, out, errOut := runCLI(t, "", "replay", "--config", cfg, "--dead"); code != 0 || out != "requeued 5 deliveries\n" {
		t.Fatalf("replay: exit %d, stdout %q, stderr %q; want the 5 dead deliveries requeued", code, out, errOut)
	}

	logged := &lineSignal{want: "sink=audit", seen: make(chan string, 10)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- relay.Run(ctx, relay.Options{ConfigPath: cfg, Listener: ln, Logger: newLogger(logged)})
	}()
	var logLines []string
	for range 2 {
		<-slack.arrived
		<-box.arrived
		logLines = append(logLines, <-logged.seen)
	}
	for range 4 {
		<-crm.arrived
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("relay.Run = %v", err)
	}

	st, err := sqlite.Open(db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{})
	st.Close()
	if err != nil || len(ds) != 10 {
		t.Fatalf("deliveries: %d, %v; want 10", len(ds), err)
	}
	for _, d := range ds {
		if d.State != store.Delivered {
			t.Errorf("delivery %d to %s is %s (%s), want delivered", d.ID, d.Sink, d.State, d.LastError)
		}
	}

	// What each sink sent, by delivery id: delivery n is action (n-1)%5 of call 102 for n <= 5, else 101.
	id := func(key string) string {
		var call, action int
		if _, err := fmt.Sscanf(key, "%d-hot-leads-%d", &call, &action); err != nil {
			t.Fatalf("Idempotency-Key %q: %v", key, err)
		}
		return strconv.Itoa(map[int]int{102: 1, 101: 6}[call] + action)
	}
	reqs, bodies := slack.requests()
	for i, r := range reqs {
		want := sent[id(r.Header.Get("Idempotency-Key"))]
		sameJSON(t, "slack "+r.Header.Get("Idempotency-Key"), []byte(bodies[i]), want.Preview)
	}
	reqs, bodies = crm.requests()
	for i, r := range reqs {
		key := r.Header.Get("Idempotency-Key")
		var want struct {
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		}
		if err := json.Unmarshal(sent[id(key)].Preview, &want); err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "crm body "+key, []byte(bodies[i]), want.Body)
		for name, v := range want.Headers {
			if got := r.Header.Get(name); got != v {
				t.Errorf("crm %s: header %s = %q, want %q", key, name, got, v)
			}
		}
	}
	box.mu.Lock()
	msgs := box.msgs
	box.mu.Unlock()
	for _, raw := range msgs {
		m, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		// The Message-ID holds the idempotency key: switchboard.<call>-hot-leads-<action>@example.com.
		key := strings.TrimSuffix(strings.TrimPrefix(m.Header.Get("Message-Id"), "<switchboard."), "@example.com>")
		var want struct {
			From, Subject, Text string
			To, Cc              []string
		}
		if err := json.Unmarshal(sent[id(key)].Preview, &want); err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		to, _ := m.Header.AddressList("To")
		cc, _ := m.Header.AddressList("Cc")
		got := []string{subject, addresses(to), addresses(cc)}
		if exp := []string{want.Subject, strings.Join(want.To, ","), strings.Join(want.Cc, ",")}; !reflect.DeepEqual(got, exp) {
			t.Errorf("email %s: subject, to, cc = %q, want %q", key, got, exp)
		}
		body, _ := io.ReadAll(m.Body)
		if !strings.Contains(string(body), "Call from Ann") {
			t.Errorf("email %s: body %q does not hold the text", key, body)
		}
	}
	// The log line shows the message as JSON, as that version's log sink did.
	for _, line := range logLines {
		n := map[bool]string{true: "5", false: "10"}[strings.Contains(line, "call_id=102")]
		var want bytes.Buffer
		if err := json.Compact(&want, sent[n].Preview); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(line, "message="+strconv.Quote(want.String())) {
			t.Errorf("log line %s does not show the message %s", line, want.String())
		}
	}
}

// sameJSON fails t when got and want are not the same JSON value.
func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: %v in %s", what, err, got)
		return
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: want: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, got, want)
	}
}

func addresses(list []*mail.Address) string {
	var out []string
	for _, a := range list {
		out = append(out, a.Address)
	}
	return strings.Join(out, ",")
}

// lineSignal is a log destination that sends each line holding want on seen.
type lineSignal struct {
	want string
	seen chan string
}

func (l *lineSignal) Write(p []byte) (int, error) {
	if line := string(p); strings.Contains(line, l.want) && strings.Contains(line, "msg=message") {
		l.seen <- line
	}
	return len(p), nil
}

// newLogger logs at info level and up, as text, to w.
func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
