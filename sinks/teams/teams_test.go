package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/card.golden.json with the current card")

// fast shortens the in-request backoff so retry rows do not wait.
var fast = httpsink.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}

// secrets are what of the test URLs must never show.
var secrets = []string{testSig, sinktest.SecretPath, "V2legacySecretPart", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}

func newTestSink(t *testing.T, url string) (*Sink, *sinktest.Buffer) {
	t.Helper()
	logger, logs := sinktest.NewLogger()
	s, err := newSink("sales-teams", &Settings{WebhookURL: spec.Secret(url), Timeout: 10 * time.Second}, logger, fast)
	if err != nil {
		t.Fatalf("newSink() = %v", err)
	}
	return s, logs
}

func TestStatusTable(t *testing.T) {
	for mode, okBody := range map[string]string{workflows: "", legacy: "1"} {
		t.Run(mode, func(t *testing.T) {
			sinktest.RunStatusTable(t, func(t *testing.T, url string) sinks.Sink {
				s, _ := newTestSink(t, url)
				return s
			}, okBody)
		})
	}
}

// legacyFailed is a legacy connector's 200 answer reporting the Teams status it got.
func legacyFailed(status string) answer {
	return answer{status: 200, contentType: "text/plain; charset=utf-8",
		body: "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error " + status +
			" with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef.0.."}
}

func workflowError(status int, code, message string) answer {
	return answer{status: status, contentType: "application/json; charset=utf-8",
		body: `{"error":{"code":"` + code + `","message":"` + message + `"}}`}
}

// TestAnswers sends a real card to the fake Teams answering each way Teams is known to, and checks the
// classification, what the error says and that no part of the URL shows in it or in the logs.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name          string
		mode          string
		answer        answer // zero: the fake's own answer
		wantErr       bool
		wantRetryable bool
		wantReason    sinks.Reason
		wantAfter     time.Duration
		wantAttempts  int
		wantInError   string
	}{
		{name: "workflows accepts with 202", mode: workflows, wantAttempts: 1},
		{name: "legacy accepts with 200 1", mode: legacy, wantAttempts: 1},
		{name: "workflows with a Response action answering 200 JSON", mode: workflows,
			answer: answer{status: 200, contentType: "application/json", body: `{"ok":true}`}, wantAttempts: 1},
		{name: "legacy answering a JSON blob (January 2023)", mode: legacy,
			answer: answer{status: 200, contentType: "application/json", body: `{"id":"1700000000000"}`}, wantAttempts: 1},
		{name: "legacy 200 reporting 429 is retried", mode: legacy, answer: legacyFailed("429"),
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonRateLimited, wantAttempts: 3, wantInError: "throttling"},
		{name: "legacy 200 reporting 413 is permanent", mode: legacy, answer: legacyFailed("413"),
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "too large"},
		{name: "legacy 200 reporting 400 is permanent", mode: legacy, answer: legacyFailed("400"),
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "HTTP error 400"},
		{name: "legacy 200 reporting 502 is retried", mode: legacy, answer: legacyFailed("502"),
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantAttempts: 3},
		{name: "legacy 200 reporting a failure without status is retried", mode: legacy,
			answer:  answer{status: 200, body: "Webhook message delivery failed with error: the operation timed out"},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantAttempts: 3, wantInError: "did not post"},
		{name: "legacy 200 reporting a status that is no failure is retried", mode: legacy, answer: legacyFailed("200"),
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantAttempts: 3},
		{name: "legacy bad payload", mode: legacy, answer: answer{status: 400, body: "Bad payload received by generic incoming webhook."},
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "could not read the card"},
		{name: "legacy summary or text required", mode: legacy, answer: answer{status: 400, body: "Summary or Text is required."},
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "Summary or Text is required."},
		{name: "legacy connector removed", mode: legacy, answer: answer{status: 410, body: "Connector configuration not found"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "removed from its channel"},
		{name: "workflow turned off", mode: workflows,
			answer:  workflowError(400, "WorkflowTriggerIsNotEnabled", "Could not find a workflow trigger because its state is 'Deleted'."),
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "WorkflowTriggerIsNotEnabled: the workflow is turned off"},
		{name: "schema mismatch", mode: workflows, answer: schemaMismatch("Required properties are missing from object: contentUrl."),
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "TriggerInputSchemaMismatch"},
		{name: "bad signature echoed in the message", mode: workflows,
			answer:  workflowError(401, "DirectApiInvalidAuthorizationSignature", "The provided authorization signature '"+testSig+"' is not valid."),
			wantErr: true, wantReason: sinks.ReasonAuth, wantAttempts: 1, wantInError: "copy the whole webhook URL again"},
		{name: "unknown code shows its message, redacted", mode: workflows,
			answer:  workflowError(403, "SomethingNew", "Access to sig "+testSig+" denied."),
			wantErr: true, wantReason: sinks.ReasonAuth, wantAttempts: 1, wantInError: "SomethingNew: Access to sig <secret> denied."},
		{name: "forbidden without a code", mode: workflows, answer: answer{status: 403},
			wantErr: true, wantReason: sinks.ReasonAuth, wantAttempts: 1, wantInError: "Teams refused the URL"},
		{name: "workflow not found", mode: workflows, answer: workflowError(404, "WorkflowNotFound", "The workflow could not be found."),
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "no longer exists"},
		{name: "not found without a code", mode: legacy, answer: answer{status: 404, body: "Not Found"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantAttempts: 1, wantInError: "no webhook at this URL"},
		{name: "429 with Retry-After is handed to the queue", mode: workflows,
			answer:  answer{status: 429, retryAfter: "120", contentType: "application/json", body: `{"error":{"code":"WorkflowRequestsThrottled","message":"Rate limit exceeded."}}`},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonRateLimited, wantAfter: 2 * time.Minute, wantAttempts: 1},
		{name: "429 without Retry-After is retried", mode: workflows, answer: answer{status: 429},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonRateLimited, wantAttempts: 3},
		{name: "502 HTML page", mode: workflows,
			answer:  answer{status: 502, contentType: "text/html", body: "<html><head><title>502 - Web server received an invalid response</title></head></html>"},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantAttempts: 3, wantInError: "an HTML page titled 502"},
		{name: "503", mode: legacy, answer: answer{status: 503}, wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantAttempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var answers []answer
			if tt.answer.status != 0 {
				answers = []answer{tt.answer}
			}
			f, url := serve(t, tt.mode, answers...)
			s, logs := newTestSink(t, url)
			err := s.Send(context.Background(), sinktest.Delivery())
			if got := len(f.requests()); got != tt.wantAttempts {
				t.Errorf("Teams saw %d requests, want %d", got, tt.wantAttempts)
			}
			sinktest.AssertNoSecrets(t, secrets, sinktest.ErrorText(err), logs.String())
			se := sinktest.SendError(t, err, tt.wantErr)
			if se == nil {
				return
			}
			if se.Retryable != tt.wantRetryable || se.Reason != tt.wantReason || se.RetryAfter != tt.wantAfter {
				t.Errorf("Send() = retryable %v, reason %q, after %v; want %v, %q, %v (%v)",
					se.Retryable, se.Reason, se.RetryAfter, tt.wantRetryable, tt.wantReason, tt.wantAfter, err)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not contain %q", err, tt.wantInError)
			}
		})
	}
}

// TestRequest checks what Send posts: the card as JSON with a charset, and the idempotency key.
func TestRequest(t *testing.T) {
	f, url := serve(t, workflows)
	s, _ := newTestSink(t, url)
	d := sinktest.Delivery()
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.contentType != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q, want application/json; charset=utf-8", r.contentType)
	}
	if r.idempotencyKey != d.IdempotencyKey() {
		t.Errorf("Idempotency-Key = %q, want %q", r.idempotencyKey, d.IdempotencyKey())
	}
	var b Body
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	if got := b.Attachments[0].Content.Body[0].Text; got != "Hot lead &lt;Ann&gt;: wants a demo" {
		t.Errorf("card text = %q, want the message's text as rendered", got)
	}
}

// TestCardGolden checks the card's exact JSON against testdata/card.golden.json: the shape the
// Workflows template reads, null contentUrl included, with the title, text and facts in order.
func TestCardGolden(t *testing.T) {
	m := Message{
		Title: "Hot lead: " + EscapeString("John *Doe*"),
		Text:  "**Wants a demo.** " + EscapeString("<at>Everyone</at> [x](y)"),
		Facts: facts{{"Phone", "+1 555 010 0000"}, {"Duration", "2 min"}, {"Next action", EscapeString("- call back")}},
	}
	body, err := encode(&m)
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", "card.golden.json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if pretty.String() != string(want) {
		t.Errorf("card =\n%s\nwant (%s, rewrite with -update)\n%s", pretty.String(), path, want)
	}
}

// TestSizeLimit checks that a card over 28 KB is refused before sending, and one at the limit is sent.
func TestSizeLimit(t *testing.T) {
	empty, err := encode(&Message{Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	atLimit := strings.Repeat("a", MaxBody-len(empty)+1)
	for _, tc := range []struct {
		name    string
		text    string
		wantErr bool
	}{
		{"at the limit", atLimit, false},
		{"one byte over", atLimit + "a", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := encode(&Message{Text: tc.text})
			if !tc.wantErr {
				if err != nil || len(body) != MaxBody {
					t.Fatalf("encode() = %d bytes, %v; want %d bytes", len(body), err, MaxBody)
				}
				return
			}
			var se *sinks.Error
			if !errors.As(err, &se) || se.Retryable || se.Reason != sinks.ReasonTemplate {
				t.Fatalf("encode() = %v, want a permanent template error", err)
			}
			if !strings.Contains(err.Error(), "28 KB") {
				t.Errorf("error %q does not name the limit", err)
			}
		})
	}
	// Through Send: nothing reaches Teams.
	f, url := serve(t, legacy)
	s, _ := newTestSink(t, url)
	d := delivery(t, Message{Text: strings.Repeat("a", MaxBody)})
	if err := s.Send(context.Background(), d); err == nil {
		t.Fatal("Send() = nil for a card over 28 KB")
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("Teams saw %d requests, want none", n)
	}
}

// TestPreview checks that Preview shows the request Send makes, with the URL hidden.
func TestPreview(t *testing.T) {
	f, url := serve(t, workflows)
	s, logs := newTestSink(t, url)
	d := sinktest.Delivery()
	p, err := s.Preview(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("Preview sent %d requests", n)
	}
	pr := p.(*httpsink.PreviewRequest)
	if pr.URL != sinks.Redacted || pr.Method != "POST" || pr.Headers["Content-Type"] != "application/json; charset=utf-8" {
		t.Errorf("preview = %+v, want POST to %q as JSON", pr, sinks.Redacted)
	}
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if sent := f.requests()[0].body; !bytes.Equal(pr.Body, sent) {
		t.Errorf("preview body\n%s\ndiffers from the body sent\n%s", pr.Body, sent)
	}
	sinktest.AssertNoSecrets(t, secrets, sinktest.JSON(t, p), logs.String())
}

// delivery returns a delivery of m as the rules engine stores it.
func delivery(t *testing.T, m Message) *sinks.Delivery {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := sinktest.Delivery()
	d.Message = sinks.Message(raw)
	return d
}

func TestNoticeMessage(t *testing.T) {
	m := noticeMessage("Switchboard: 2 dead deliveries",
		"Switchboard: 2 dead deliveries\n• call 7, rule hot_leads, sink crm: client_error: receiver answered 400\n- and *more*")
	if m.Title != "Switchboard: 2 dead deliveries" {
		t.Errorf("title = %q", m.Title)
	}
	want := "• call 7, rule hot\\_leads, sink crm: client\\_error: receiver answered 400\n\n\\- and \\*more\\*"
	if m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
}

func TestFactsKeepTheirOrder(t *testing.T) {
	var m Message
	if err := json.Unmarshal([]byte(`{"text":"t","facts":{"z":"1","a":"2","m":"3"}}`), &m); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m.Facts)
	if string(got) != `{"z":"1","a":"2","m":"3"}` {
		t.Errorf("facts = %s, want the order written", got)
	}
	for _, bad := range []string{`{"facts":[1]}`, `{"facts":{"a":1}}`, `{"facts":"x"}`} {
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("decoding %s succeeded, want an error", bad)
		}
	}
}

// TestNotice checks what Spec.Notice stores for a notification: plain text escaped, a
// notify.dead_letters.text template (Markup) kept as rendered; both then sent as a card.
func TestNotice(t *testing.T) {
	tests := []struct {
		name      string
		n         spec.Notice
		wantTitle string
		wantText  string
	}{
		{name: "plain text", n: spec.Notice{Kind: "sink_down", Subject: "Switchboard: sink crm_eu is down",
			Text: "Switchboard: sink crm_eu is held. Last error: receiver answered 400 <html>"},
			wantTitle: `Switchboard: sink crm\_eu is down`, wantText: `Switchboard: sink crm\_eu is held. Last error: receiver answered 400 \<html>`},
		{name: "markup from a template", n: spec.Notice{Kind: "dead_letters", Subject: "2 dead", Markup: true,
			Text: "**2 dead** on crm\\_eu"},
			wantTitle: "2 dead", wantText: "**2 dead** on crm\\_eu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := Spec.Notice(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			var m Message
			if err := msg.Decode(&m); err != nil {
				t.Fatal(err)
			}
			if m.Title != tt.wantTitle || m.Text != tt.wantText {
				t.Errorf("notice = title %q, text %q; want %q, %q", m.Title, m.Text, tt.wantTitle, tt.wantText)
			}
			f, url := serve(t, workflows)
			s, _ := newTestSink(t, url)
			d := sinktest.Delivery()
			d.Message = msg
			if err := s.Send(context.Background(), d); err != nil || len(f.requests()) != 1 {
				t.Errorf("Send(notice) = %v with %d requests, want it delivered", err, len(f.requests()))
			}
		})
	}
}

// TestSendsTitleAndFacts sends a message with every action key and checks the card's elements.
func TestSendsTitleAndFacts(t *testing.T) {
	f, url := serve(t, legacy)
	s, _ := newTestSink(t, url)
	m := Message{Title: "Hot lead", Text: "Wants a demo", Facts: facts{{"Phone", "+1 555"}, {"A", "b"}}}
	if err := s.Send(context.Background(), delivery(t, m)); err != nil {
		t.Fatal(err)
	}
	var b Body
	if err := json.Unmarshal(f.requests()[0].body, &b); err != nil {
		t.Fatal(err)
	}
	els := b.Attachments[0].Content.Body
	if len(els) != 3 || els[0].Text != "Hot lead" || els[0].Weight != "bolder" || els[1].Text != "Wants a demo" ||
		els[2].Type != "FactSet" || len(els[2].Facts) != 2 || els[2].Facts[0] != (fact{"Phone", "+1 555"}) {
		t.Errorf("card body = %+v, want the title, the text and the facts in order", els)
	}
}
