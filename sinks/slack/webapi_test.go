package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

func TestWebAPIRequest(t *testing.T) {
	f, url := serve(t, answer{status: 200, contentType: "application/json", body: `{"ok":true,"channel":"C0SALES","ts":"1.2"}`})
	s, _ := newAPISink(t, url)
	d := sinktest.Delivery()
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	r := f.requests()[0]
	if r.auth != "Bearer "+testToken {
		t.Errorf("Authorization = %q, want the bearer token", r.auth)
	}
	if r.body["channel"] != "C0SALES" || r.body["text"] != sinktest.Read[Message](t, d).Text || r.body["blocks"] == nil {
		t.Errorf("body = %v, want channel C0SALES, the text and the blocks", r.body)
	}
	if r.contentType != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q, want application/json; charset=utf-8", r.contentType)
	}
}

func TestWebAPIAnswers(t *testing.T) {
	okFalse := func(code string) answer {
		return answer{status: 200, contentType: "application/json", body: `{"ok":false,"error":"` + code + `"}`}
	}
	tests := []struct {
		name          string
		answer        answer
		wantErr       bool
		wantRetryable bool
		wantReason    sinks.Reason
		wantInError   string
		wantInLog     string
	}{
		{name: "ok", answer: answer{status: 200, body: `{"ok":true}`}},
		{name: "ok with warning is delivered and logged",
			answer:    answer{status: 200, body: `{"ok":true,"warning":"superfluous_charset"}`},
			wantInLog: "superfluous_charset"},
		{name: "invalid_auth", answer: okFalse("invalid_auth"), wantErr: true, wantReason: sinks.ReasonAuth, wantInError: "invalid_auth"},
		{name: "token_revoked", answer: okFalse("token_revoked"), wantErr: true, wantReason: sinks.ReasonAuth, wantInError: "token_revoked"},
		{name: "not_authed", answer: okFalse("not_authed"), wantErr: true, wantReason: sinks.ReasonAuth, wantInError: "not_authed"},
		{name: "account_inactive", answer: okFalse("account_inactive"), wantErr: true, wantReason: sinks.ReasonAuth, wantInError: "account_inactive"},
		{name: "channel_not_found", answer: okFalse("channel_not_found"), wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "channel_not_found"},
		{name: "not_in_channel", answer: okFalse("not_in_channel"), wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "not_in_channel: the bot is not in the channel"},
		{name: "is_archived", answer: okFalse("is_archived"), wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "is_archived"},
		{name: "msg_too_long", answer: okFalse("msg_too_long"), wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "msg_too_long"},
		{name: "no_text", answer: okFalse("no_text"), wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "no_text"},
		{name: "invalid_blocks", answer: okFalse("invalid_blocks"), wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "invalid_blocks"},
		{name: "unknown code is permanent", answer: okFalse("something_new"), wantErr: true, wantReason: sinks.ReasonClientError, wantInError: "something_new"},
		{name: "internal_error is retried", answer: okFalse("internal_error"), wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "internal_error"},
		{name: "fatal_error is retried", answer: okFalse("fatal_error"), wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "fatal_error"},
		{name: "service_unavailable is retried", answer: okFalse("service_unavailable"), wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "service_unavailable"},
		{name: "429 ratelimited", answer: answer{status: 429, retryAfter: "30", contentType: "application/json", body: `{"ok":false,"error":"ratelimited"}`},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonRateLimited, wantInError: "ratelimited"},
		{name: "200 that is not JSON is not delivered", answer: answer{status: 200, contentType: "text/html", body: "<html><title>Proxy</title></html>"},
			wantErr: true, wantRetryable: true, wantReason: sinks.ReasonServerError, wantInError: "instead of JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, url := serve(t, tc.answer)
			s, logs := newAPISink(t, url)
			err := s.Send(context.Background(), sinktest.Delivery())
			checkErr(t, err, tc.wantErr, tc.wantRetryable, tc.wantReason, tc.wantInError, "")
			if !strings.Contains(logs.String(), tc.wantInLog) {
				t.Errorf("logs = %q, want them to contain %q", logs, tc.wantInLog)
			}
			sinktest.AssertNoSecrets(t, []string{testToken}, sinktest.ErrorText(err), logs.String())
		})
	}
}

// TestShortRetryAfterIsWaited checks that a 429 with a short Retry-After is retried in the request,
// and never before Retry-After: Slack may disable apps that post earlier.
func TestShortRetryAfterIsWaited(t *testing.T) {
	tests := []struct {
		name string
		mode string
		ok   answer
		rl   answer
	}{
		{name: "webhook", mode: "webhook", rl: answer{status: 429, retryAfter: "1", body: "rate limited"}, ok: answer{status: 200, body: "ok"}},
		{name: "web api", mode: "api", rl: answer{status: 429, retryAfter: "1", body: `{"ok":false,"error":"ratelimited"}`},
			ok: answer{status: 200, body: `{"ok":true}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, url := serve(t, tc.rl, tc.ok)
			s, _ := newWebhookSink(t, url)
			if tc.mode == "api" {
				s, _ = newAPISink(t, url)
			}
			if err := s.Send(context.Background(), sinktest.Delivery()); err != nil {
				t.Fatalf("Send() = %v, want nil after waiting", err)
			}
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Fatalf("Slack saw %d requests, want 2", len(reqs))
			}
			if gap := reqs[1].at.Sub(reqs[0].at); gap < time.Second {
				t.Errorf("retried %v after a 429 with Retry-After: 1, want at least 1s", gap)
			}
		})
	}
}

// TestLongRetryAfterIsHandedBack checks that a long Retry-After is not waited for in the request but
// returned for the queue to wait.
func TestLongRetryAfterIsHandedBack(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(time.RFC1123)
	date = strings.Replace(date, "UTC", "GMT", 1)
	tests := []struct {
		name       string
		retryAfter string
		wantAtLeat time.Duration
		wantAtMost time.Duration
	}{
		{name: "seconds", retryAfter: "45", wantAtLeat: 45 * time.Second, wantAtMost: 45 * time.Second},
		{name: "HTTP date", retryAfter: date, wantAtLeat: 80 * time.Second, wantAtMost: 90 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, url := serve(t, answer{status: 429, retryAfter: tc.retryAfter, body: "rate limited"})
			s, _ := newWebhookSink(t, url)
			err := s.Send(context.Background(), sinktest.Delivery())
			var se *sinks.Error
			if !errors.As(err, &se) || !se.Retryable || se.Reason != sinks.ReasonRateLimited {
				t.Fatalf("Send() = %v, want a retryable rate_limited *sinks.Error", err)
			}
			if se.RetryAfter < tc.wantAtLeat || se.RetryAfter > tc.wantAtMost {
				t.Errorf("RetryAfter = %v, want between %v and %v", se.RetryAfter, tc.wantAtLeat, tc.wantAtMost)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("Slack saw %d requests, want 1 (no retry before Retry-After)", n)
			}
		})
	}
}
