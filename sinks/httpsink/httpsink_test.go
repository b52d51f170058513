package httpsink

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{name: "seconds", value: "120", want: 2 * time.Minute, wantOK: true},
		{name: "zero", value: "0", want: 0, wantOK: true},
		{name: "spaces", value: " 3 ", want: 3 * time.Second, wantOK: true},
		{name: "huge is capped at a day", value: "99999999999", want: 24 * time.Hour, wantOK: true},
		{name: "HTTP date", value: "Thu, 26 Nov 2026 12:01:30 GMT", want: 90 * time.Second, wantOK: true},
		{name: "RFC 850 date", value: "Thursday, 26-Nov-26 12:00:10 GMT", want: 10 * time.Second, wantOK: true},
		{name: "date a day away is kept", value: "Fri, 27 Nov 2026 12:00:00 GMT", want: 24 * time.Hour, wantOK: true},
		{name: "date past a day is capped at a day", value: "Sat, 28 Nov 2026 12:00:00 GMT", want: 24 * time.Hour, wantOK: true},
		{name: "year 9999 date is capped at a day", value: "Fri, 31 Dec 9999 23:59:59 GMT", want: 24 * time.Hour, wantOK: true},
		{name: "date in the past", value: "Thu, 26 Nov 2026 11:00:00 GMT", want: 0, wantOK: true},
		{name: "empty", value: "", wantOK: false},
		{name: "negative", value: "-5", wantOK: false},
		{name: "fraction", value: "1.5", wantOK: false},
		{name: "garbage", value: "soon", wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tc.value, now)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %v, want %v, %v", tc.value, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name, contentType, body, want string
	}{
		{name: "empty", body: "  ", want: ""},
		{name: "plain text", body: "channel_not_found\n", want: "channel_not_found"},
		{name: "JSON on one line", contentType: "application/json", body: "{\"error\":\n  \"bad\"}", want: `{"error": "bad"}`},
		{name: "HTML with title", contentType: "text/html; charset=utf-8",
			body: "<html><head><title>\n 502 Bad Gateway </title></head><body><h1>nginx</h1></body></html>", want: "an HTML page titled 502 Bad Gateway"},
		{name: "HTML without title or content type", body: "<!DOCTYPE html><html><body>oops</body></html>", want: "an HTML page"},
		{name: "control characters dropped", body: "bad\x00\x1b[31m input", want: "bad[31m input"},
		{name: "long text truncated", body: strings.Repeat("x", 500), want: strings.Repeat("x", 200) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.contentType, []byte(tc.body)); got != tc.want {
				t.Errorf("Summarize(%q) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

// counter is a test server that counts requests and answers with handle.
func counter(t *testing.T, handle http.HandlerFunc) (*atomic.Int32, string) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return &n, srv.URL + sinktest.SecretPath
}

// hold keeps a request unanswered until the client goes away or the test releases it.
func hold(r *http.Request, release <-chan struct{}) {
	_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client closing
	select {
	case <-r.Context().Done():
	case <-release:
	}
}

func fastClient(opts Options) *Client {
	opts.RetryWaitMin, opts.RetryWaitMax = time.Millisecond, 2*time.Millisecond
	return New(opts)
}

func post(c *Client, ctx context.Context, url string) (*Response, error) {
	return c.Do(ctx, &Request{Method: http.MethodPost, URL: url, Body: []byte(`{}`)})
}

func TestRedirectIsNotFollowed(t *testing.T) {
	n, url := counter(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	})
	_, err := post(fastClient(Options{Redactor: sinks.NewRedactor([]string{url})}), context.Background(), url)
	var se *sinks.Error
	if !errors.As(err, &se) || se.Retryable || se.Reason != sinks.ReasonClientError {
		t.Fatalf("Do() = %v, want a permanent client_error", err)
	}
	if !strings.Contains(err.Error(), "redirect not followed: point the sink at the final URL") {
		t.Errorf("error %q does not say the redirect was not followed", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

func TestInterpreterDecidesInRequestRetries(t *testing.T) {
	var calls atomic.Int32
	interpret := func(status int, _ http.Header, body []byte) *sinks.Error {
		calls.Add(1)
		if string(body) == "busy" {
			return sinks.Retry(sinks.ReasonServerError, errors.New("busy"))
		}
		return nil
	}
	n, url := counter(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("busy")) })
	_, err := post(fastClient(Options{Interpret: interpret}), context.Background(), url)
	var se *sinks.Error
	if !errors.As(err, &se) || !se.Retryable || se.StatusCode != 200 {
		t.Fatalf("Do() = %v, want a retryable error with status 200", err)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("server saw %d requests, want 3", got)
	}
	// Once per answer: the last verdict is the result.
	if got := calls.Load(); got != 3 {
		t.Errorf("interpreter ran %d times, want 3 (once per answer)", got)
	}
}

func TestRetryMaxNegativeMeansNoRetry(t *testing.T) {
	n, url := counter(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	_, err := post(fastClient(Options{RetryMax: -1}), context.Background(), url)
	if err == nil {
		t.Fatal("Do() = nil, want an error")
	}
	if got := n.Load(); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

func TestBodyIsBounded(t *testing.T) {
	_, url := counter(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("a", BodyLimit+100<<10)))
	})
	resp, err := post(fastClient(Options{}), context.Background(), url)
	if err != nil {
		t.Fatalf("Do() = %v, want nil", err)
	}
	if got := len(resp.Body); got != BodyLimit {
		t.Errorf("len(Body) = %d, want %d", got, BodyLimit)
	}
}

// TestTimeoutIsNotRetriedInRequest: the receiver may still be working on a timed-out request, so the
// queue, not the transport, decides when to try again.
func TestTimeoutIsNotRetriedInRequest(t *testing.T) {
	release := make(chan struct{})
	n, url := counter(t, func(w http.ResponseWriter, r *http.Request) { hold(r, release) })
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	logger, logs := sinktest.NewLogger()
	_, err := post(fastClient(Options{Timeout: 500 * time.Millisecond, Logger: logger, Redactor: sinks.NewRedactor([]string{url})}),
		context.Background(), url)
	var se *sinks.Error
	if !errors.As(err, &se) || !se.Retryable || se.Reason != sinks.ReasonTimeout {
		t.Fatalf("Do() = %v, want a retryable timeout", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
	sinktest.AssertNoSecrets(t, []string{sinktest.SecretPath}, err.Error(), logs.String())
}

func TestCancelledContextStopsTheRequest(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	_, url := counter(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		hold(r, release)
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := post(fastClient(Options{Redactor: sinks.NewRedactor([]string{url})}), ctx, url)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Do() = %v, want it to wrap context.Canceled", err)
	}
	sinktest.AssertNoSecrets(t, []string{sinktest.SecretPath}, err.Error())
}

func TestInvalidURLIsAConfigError(t *testing.T) {
	_, err := post(fastClient(Options{}), context.Background(), "http://[::1]:namedport/secret-path")
	var se *sinks.Error
	if !errors.As(err, &se) || se.Reason != sinks.ReasonConfig || se.Retryable {
		t.Fatalf("Do() = %v, want a permanent config error", err)
	}
	sinktest.AssertNoSecrets(t, []string{"secret-path"}, err.Error())
}

// TestAnswerCountsAfterContextEnds checks the narrow window where the receiver's answer arrived but the
// context ended (lease deadline, shutdown) before it was looked at: a 2xx is a delivery, not an
// interrupted attempt to be sent again; a failure is still reported as the context's end.
func TestAnswerCountsAfterContextEnds(t *testing.T) {
	c := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	answer := func(status int) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok"))}
	}
	if retry, err := c.checkRetry(ctx, answer(200), nil); retry || err != nil {
		t.Errorf("200 after ctx ended: retry %v, err %v; want false, nil", retry, err)
	}
	if retry, err := c.checkRetry(ctx, answer(503), nil); retry || !errors.Is(err, context.Canceled) {
		t.Errorf("503 after ctx ended: retry %v, err %v; want false, context.Canceled", retry, err)
	}
}

// TestFailuresKeepPooledConnections sends refused, retried and delivered requests in turn and checks
// that they all share one connection: go-retryablehttp closes the client's idle connections after
// every failed request unless the transport hides that.
func TestFailuresKeepPooledConnections(t *testing.T) {
	var conns atomic.Int32
	status := atomic.Int32{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := fastClient(Options{})
	for _, code := range []int{http.StatusBadRequest, http.StatusServiceUnavailable, http.StatusOK, http.StatusNotFound, http.StatusOK} {
		status.Store(int32(code))
		_, err := post(c, context.Background(), srv.URL)
		if (err == nil) != (code == http.StatusOK) {
			t.Fatalf("Do() answered %d = %v", code, err)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("server accepted %d connections, want 1: failures must not close pooled connections", got)
	}
}

// TestAttemptsCountedInTransportErrors checks the attempt count that go-retryablehttp hands its
// ErrorHandler: a receiver that drops every connection is tried 1 + RetryMax times, and the error says so.
func TestAttemptsCountedInTransportErrors(t *testing.T) {
	tests := []struct {
		name     string
		retryMax int
		want     string
	}{
		{name: "retried", retryMax: 2, want: "send request (3 attempts): "},
		{name: "not retried", retryMax: -1, want: "send request: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, url := counter(t, func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				conn.Close()
			})
			_, err := post(fastClient(Options{RetryMax: tt.retryMax, Redactor: sinks.NewRedactor([]string{url})}), context.Background(), url)
			var se *sinks.Error
			if !errors.As(err, &se) || !se.Retryable || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Do() = %v, want a retryable error containing %q", err, tt.want)
			}
			if got, want := n.Load(), int32(max(tt.retryMax, 0)+1); got != want {
				t.Errorf("server saw %d requests, want %d", got, want)
			}
		})
	}
}
