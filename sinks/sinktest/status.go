package sinktest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
)

// SecretPath is the path of the URL RunStatusTable gives a sink: it stands for the secret part of a
// webhook URL and must appear in no error or log line.
const SecretPath = "/services/T0SECRET/B0SECRET/xoxsecretwebhookpath"

// InRequestAttempts is the attempts a receiver sees for a retryable answer without a long
// Retry-After: the first and the transport's two quick retries.
const InRequestAttempts = 3

// StatusCase is one row of the status table: what the receiver answers and what Send must return.
type StatusCase struct {
	Name       string
	Status     int
	RetryAfter string // the Retry-After header, if any
	// WantErr is false only for delivered answers; then the other Want fields are ignored.
	WantErr        bool
	WantRetryable  bool
	WantReason     sinks.Reason
	WantRetryAfter time.Duration
	// WantAttempts is how many requests the receiver sees.
	WantAttempts int
}

// StatusCases is the shared table: every class of HTTP answer and the classification it gets.
// Retry-After values are long so the table never waits for them (short ones have their own tests).
func StatusCases() []StatusCase {
	permanent := func(name string, status int, reason sinks.Reason) StatusCase {
		return StatusCase{Name: name, Status: status, WantErr: true, WantReason: reason, WantAttempts: 1}
	}
	retry := func(name string, status int, reason sinks.Reason) StatusCase {
		return StatusCase{Name: name, Status: status, WantErr: true, WantRetryable: true, WantReason: reason,
			WantAttempts: InRequestAttempts}
	}
	return []StatusCase{
		{Name: "200 delivered", Status: 200, WantAttempts: 1},
		{Name: "201 delivered", Status: 201, WantAttempts: 1},
		{Name: "202 delivered", Status: 202, WantAttempts: 1},
		permanent("301 redirect not followed", 301, sinks.ReasonClientError),
		permanent("302 redirect not followed", 302, sinks.ReasonClientError),
		permanent("307 redirect not followed", 307, sinks.ReasonClientError),
		permanent("308 redirect not followed", 308, sinks.ReasonClientError),
		permanent("400 bad request", 400, sinks.ReasonClientError),
		permanent("401 unauthorized", 401, sinks.ReasonAuth),
		permanent("403 forbidden", 403, sinks.ReasonAuth),
		permanent("404 not found", 404, sinks.ReasonClientError),
		permanent("405 method not allowed", 405, sinks.ReasonClientError),
		permanent("409 conflict", 409, sinks.ReasonClientError),
		permanent("410 gone", 410, sinks.ReasonClientError),
		permanent("413 too large", 413, sinks.ReasonClientError),
		permanent("422 unprocessable", 422, sinks.ReasonClientError),
		retry("408 request timeout", 408, sinks.ReasonTimeout),
		retry("425 too early", 425, sinks.ReasonServerError),
		retry("429 without Retry-After", 429, sinks.ReasonRateLimited),
		{Name: "429 with long Retry-After handed to the queue", Status: 429, RetryAfter: "120", WantErr: true,
			WantRetryable: true, WantReason: sinks.ReasonRateLimited, WantRetryAfter: 120 * time.Second, WantAttempts: 1},
		retry("500 internal error", 500, sinks.ReasonServerError),
		retry("501 not implemented", 501, sinks.ReasonServerError),
		retry("502 bad gateway", 502, sinks.ReasonServerError),
		retry("503 unavailable", 503, sinks.ReasonServerError),
		{Name: "503 with long Retry-After handed to the queue", Status: 503, RetryAfter: "3600", WantErr: true,
			WantRetryable: true, WantReason: sinks.ReasonServerError, WantRetryAfter: time.Hour, WantAttempts: 1},
		retry("504 gateway timeout", 504, sinks.ReasonServerError),
	}
}

// NewSinkFunc builds the sink under test pointed at url, with a short in-request backoff.
type NewSinkFunc func(t *testing.T, url string) sinks.Sink

// RunStatusTable runs every StatusCase against a fresh httptest server: a 2xx answer carries okBody
// (what the service answers on success), anything else a plain-text "error" body. The sink is given
// the server's URL plus SecretPath, which must appear in no error.
func RunStatusTable(t *testing.T, newSink NewSinkFunc, okBody string) {
	for _, tc := range StatusCases() {
		t.Run(tc.Name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				if tc.RetryAfter != "" {
					w.Header().Set("Retry-After", tc.RetryAfter)
				}
				if tc.Status >= 300 && tc.Status < 400 {
					w.Header().Set("Location", "/moved")
				}
				if tc.Status >= 200 && tc.Status < 300 {
					w.WriteHeader(tc.Status)
					_, _ = w.Write([]byte(okBody))
					return
				}
				http.Error(w, "error", tc.Status)
			}))
			defer srv.Close()

			err := newSink(t, srv.URL+SecretPath).Send(context.Background(), Delivery())
			if got := int(attempts.Load()); got != tc.WantAttempts {
				t.Errorf("receiver saw %d attempts, want %d", got, tc.WantAttempts)
			}
			AssertNoSecrets(t, []string{SecretPath}, ErrorText(err))
			se := SendError(t, err, tc.WantErr)
			if se == nil {
				return
			}
			if se.Retryable != tc.WantRetryable || se.Reason != tc.WantReason {
				t.Errorf("Send() = retryable %v reason %q, want retryable %v reason %q (%v)",
					se.Retryable, se.Reason, tc.WantRetryable, tc.WantReason, err)
			}
			if se.RetryAfter != tc.WantRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", se.RetryAfter, tc.WantRetryAfter)
			}
			if se.StatusCode != tc.Status {
				t.Errorf("StatusCode = %d, want %d", se.StatusCode, tc.Status)
			}
		})
	}
}
