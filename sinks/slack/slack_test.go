package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

const testToken = "xoxb-0000-secret-token"

// fast shortens the in-request backoff so retry rows do not wait.
var fast = httpsink.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}

func newWebhookSink(t *testing.T, url string) (*Sink, *sinktest.Buffer) {
	t.Helper()
	logger, logs := sinktest.NewLogger()
	s, err := newSink("sales", &Settings{WebhookURL: spec.Secret(url)}, logger, fast)
	if err != nil {
		t.Fatalf("newSink() = %v", err)
	}
	return s, logs
}

func newAPISink(t *testing.T, url string) (*Sink, *sinktest.Buffer) {
	t.Helper()
	logger, logs := sinktest.NewLogger()
	s, err := newSink("sales", &Settings{Token: testToken, Channel: "C0SALES", APIURL: url}, logger, fast)
	if err != nil {
		t.Fatalf("newSink() = %v", err)
	}
	return s, logs
}

func TestStatusTableWebhook(t *testing.T) {
	sinktest.RunStatusTable(t, func(t *testing.T, url string) sinks.Sink {
		s, _ := newWebhookSink(t, url)
		return s
	}, "ok")
}

func TestStatusTableWebAPI(t *testing.T) {
	sinktest.RunStatusTable(t, func(t *testing.T, url string) sinks.Sink {
		s, _ := newAPISink(t, url)
		return s
	}, `{"ok":true,"channel":"C0SALES","ts":"1700000000.000100"}`)
}

// received is one request as the fake Slack saw it.
type received struct {
	method, contentType, auth string
	body                      map[string]any
	at                        time.Time
}

// fakeSlack answers each request with the next of answers (the last one repeats) and records it.
type fakeSlack struct {
	mu      sync.Mutex
	answers []answer
	got     []received
}

type answer struct {
	status      int
	contentType string
	retryAfter  string
	body        string
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.got = append(f.got, received{method: r.Method, contentType: r.Header.Get("Content-Type"),
		auth: r.Header.Get("Authorization"), body: body, at: time.Now()})
	a := f.answers[min(len(f.got), len(f.answers))-1]
	f.mu.Unlock()
	if a.contentType == "" {
		a.contentType = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", a.contentType)
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (f *fakeSlack) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

func serve(t *testing.T, answers ...answer) (*fakeSlack, string) {
	t.Helper()
	f := &fakeSlack{answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + sinktest.SecretPath
}

func TestWebhookRequest(t *testing.T) {
	f, url := serve(t, answer{status: 200, body: "ok"})
	s, _ := newWebhookSink(t, url)
	d := sinktest.Delivery()
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("Slack saw %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || !strings.HasPrefix(r.contentType, "application/json") {
		t.Errorf("request = %s %q, want POST application/json", r.method, r.contentType)
	}
	if r.auth != "" {
		t.Errorf("Authorization = %q, want none for a webhook", r.auth)
	}
	if r.body["text"] != sinktest.Read[Message](t, d).Text {
		t.Errorf("text = %v, want %q", r.body["text"], sinktest.Read[Message](t, d).Text)
	}
	if _, ok := r.body["channel"]; ok {
		t.Errorf("body has channel %v, want none for a webhook", r.body["channel"])
	}
	var wantBlocks any
	if err := json.Unmarshal(sinktest.Read[Message](t, d).Blocks, &wantBlocks); err != nil {
		t.Fatalf("unmarshal blocks: %v", err)
	}
	if !reflect.DeepEqual(r.body["blocks"], wantBlocks) {
		t.Errorf("blocks = %v, want %v", r.body["blocks"], wantBlocks)
	}
}

func TestWebhookAnswers(t *testing.T) {
	const htmlPage = `<!DOCTYPE html><html><head><title>Slack | Page not found</title></head>` +
		`<body><script>var secret = 1;</script><p>There's been a glitch</p></body></html>`
	tests := []struct {
		name          string
		answer        answer
		wantErr       bool
		wantRetryable bool
		wantReason    sinks.Reason
		wantInError   string
		wantNotInErr  string
	}{
		{name: "200 ok is delivered", answer: answer{status: 200, body: "ok"}},
		{name: "invalid_payload", answer: answer{status: 400, body: "invalid_payload"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "invalid_payload"},
		{name: "user_not_found", answer: answer{status: 400, body: "user_not_found"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "user_not_found"},
		{name: "missing_text_or_fallback_or_attachments", answer: answer{status: 400, body: "missing_text_or_fallback_or_attachments"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "missing_text_or_fallback_or_attachments"},
		{name: "action_prohibited", answer: answer{status: 403, body: "action_prohibited"},
			wantErr: true, wantReason: sinks.ReasonAuth, wantInError: "action_prohibited"},
		{name: "channel_not_found", answer: answer{status: 404, body: "channel_not_found"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "channel_not_found"},
		{name: "404 no_service", answer: answer{status: 404, body: "no_service"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "no_service: the webhook is disabled"},
		{name: "410 no_service", answer: answer{status: 410, body: "no_service"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "no_service"},
		{name: "channel_is_archived", answer: answer{status: 410, body: "channel_is_archived"},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "channel_is_archived"},
		{name: "500 rollup_error is retried", answer: answer{status: 500, body: "rollup_error"},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "rollup_error"},
		{name: "HTML error page is summarised", answer: answer{status: 404, contentType: "text/html", body: htmlPage},
			wantErr: true, wantReason: sinks.ReasonClientError, wantInError: `HTML page titled Slack | Page not found`,
			wantNotInErr: "<script"},
		{name: "HTML 503 is retried", answer: answer{status: 503, contentType: "text/html", body: "<html><body>down</body></html>"},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "an HTML page",
			wantNotInErr: "<body"},
		{name: "200 without ok is not delivered", answer: answer{status: 200, body: "accepted"},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "not posted"},
		{name: "200 HTML portal is not delivered", answer: answer{status: 200, contentType: "text/html", body: htmlPage},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "not posted",
			wantNotInErr: "<script"},
		{name: "200 empty is not delivered", answer: answer{status: 200},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "an empty body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, url := serve(t, tc.answer)
			s, logs := newWebhookSink(t, url)
			err := s.Send(context.Background(), sinktest.Delivery())
			checkErr(t, err, tc.wantErr, tc.wantRetryable, tc.wantReason, tc.wantInError, tc.wantNotInErr)
			sinktest.AssertNoSecrets(t, []string{sinktest.SecretPath}, sinktest.ErrorText(err), logs.String())
		})
	}
}

func checkErr(t *testing.T, err error, wantErr, wantRetryable bool, wantReason sinks.Reason, wantIn, wantNotIn string) {
	t.Helper()
	if !wantErr {
		if err != nil {
			t.Fatalf("Send() = %v, want nil", err)
		}
		return
	}
	var se *sinks.Error
	if !errors.As(err, &se) {
		t.Fatalf("Send() = %v, want a *sinks.Error", err)
	}
	if se.Retryable != wantRetryable || se.Reason != wantReason {
		t.Errorf("Send() = retryable %v reason %q, want retryable %v reason %q (%v)",
			se.Retryable, se.Reason, wantRetryable, wantReason, err)
	}
	if !strings.Contains(err.Error(), wantIn) {
		t.Errorf("error %q does not contain %q", err, wantIn)
	}
	if wantNotIn != "" && strings.Contains(err.Error(), wantNotIn) {
		t.Errorf("error %q contains %q", err, wantNotIn)
	}
}
