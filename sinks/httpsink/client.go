// Package httpsink is the HTTP transport every HTTP sink shares: one pooled client per sink, a few
// quick in-request retries through go-retryablehttp, one classification for those retries and for the
// final result (sinks.ClassifyStatus unless the sink interprets answers itself), Retry-After honoured,
// redirects refused, bodies bounded, and secrets redacted from every error and log line.
package httpsink

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/switchboard-relay/switchboard/sinks"
)

// Defaults for a zero Options field.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultRetryMax      = 2
	DefaultRetryWaitMin  = 250 * time.Millisecond
	DefaultRetryWaitMax  = 2 * time.Second
	DefaultMaxRetryAfter = 5 * time.Second
)

// BodyLimit is how much of a response body is read and kept; the rest is discarded. It is large
// enough for Slack's chat.postMessage answer, which echoes the message.
const BodyLimit = 1 << 20

// drainLimit is how much more is read past BodyLimit so the connection can be reused.
const drainLimit = 64 << 10

// redirectHint is the detail of a 3xx answer.
const redirectHint = "redirect not followed: point the sink at the final URL"

// Interpreter classifies one complete answer: nil when delivered, else the failure. It must be pure:
// it runs after every attempt (deciding the in-request retry) and again for the final result.
// The Client adds RetryAfter from the Retry-After header to a retryable result that has none.
type Interpreter func(status int, header http.Header, body []byte) *sinks.Error

// Options configures a Client. Zero fields take the defaults above.
type Options struct {
	// Logger receives go-retryablehttp's per-attempt lines, redacted. Nil discards them.
	Logger *slog.Logger
	// Timeout bounds each attempt: connecting, sending and reading the answer.
	Timeout time.Duration
	// RetryMax is the number of in-request retries after the first attempt; negative means none.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between in-request retries.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter is the longest Retry-After waited for in the request; a longer one ends the
	// request with a retryable error carrying RetryAfter, so the queue waits instead.
	MaxRetryAfter time.Duration
	// Redactor removes the sink's secrets from errors and logs. Nil redacts nothing.
	Redactor *sinks.Redactor
	// Interpret classifies answers; nil means DefaultInterpreter.
	Interpret Interpreter
	// MaskAnswer, when set, rewrites the summary of an answer (see Answer) after redaction: the
	// twilio sink masks the phone numbers Twilio's answer quotes, as the logs mask them.
	MaskAnswer func(string) string
}

// Request is one HTTP request to send. Body is sent as is, identical on every attempt.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Response is a delivered request's answer, with at most BodyLimit bytes of body.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Client sends requests for one sink. It is safe for concurrent use and reuses connections.
type Client struct {
	rc            *retryablehttp.Client
	interpret     Interpreter
	redact        *sinks.Redactor
	maskAnswer    func(string) string
	maxRetryAfter time.Duration
	now           func() time.Time
}

// New returns a Client with its own pooled transport.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	switch {
	case opts.RetryMax == 0:
		opts.RetryMax = DefaultRetryMax
	case opts.RetryMax < 0:
		opts.RetryMax = 0
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = DefaultRetryWaitMin
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = DefaultRetryWaitMax
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if opts.Interpret == nil {
		opts.Interpret = DefaultInterpreter
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// A sink sends to one host, up to its concurrency at once: keep enough idle connections that a
	// busy sink (a backlog drained at concurrency 16, say) reuses them instead of dialling anew for
	// most sends. Idle ones close after the transport's IdleConnTimeout.
	transport.MaxIdleConnsPerHost = 64
	c := &Client{
		interpret:     opts.Interpret,
		redact:        opts.Redactor,
		maskAnswer:    opts.MaskAnswer,
		maxRetryAfter: opts.MaxRetryAfter,
		now:           time.Now,
	}
	c.rc = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: keepIdle{transport},
			Timeout:   opts.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		Logger:       leveledLogger{log: logger, redact: opts.Redactor},
		RetryWaitMin: opts.RetryWaitMin,
		RetryWaitMax: opts.RetryWaitMax,
		RetryMax:     opts.RetryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: c.giveUp,
	}
	return c
}

// keepIdle hides the pooled transport's CloseIdleConnections from go-retryablehttp, which calls it
// whenever a request ends in failure (and when a context ends during a backoff): that would drop every
// pooled connection to the sink after each refused message, just when the receiver is struggling.
// Idle connections still close after the transport's IdleConnTimeout.
type keepIdle struct{ rt http.RoundTripper }

func (k keepIdle) RoundTrip(r *http.Request) (*http.Response, error) { return k.rt.RoundTrip(r) }

// DefaultInterpreter classifies by status alone with sinks.StatusError, using a summary of the body
// as the detail.
func DefaultInterpreter(status int, header http.Header, body []byte) *sinks.Error {
	return sinks.StatusError(status, 0, Summarize(header.Get("Content-Type"), body))
}

type answerKey struct{}

// Answer is what the receiver answered to the last request of a Do: its status and a short summary
// of its body (see Summarize), with the sink's secrets redacted. `switchboard send-test` prints it.
type Answer struct {
	Status  int
	Summary string
}

// WithAnswer returns a context that makes Do record the receiver's answer in a, delivered or not.
func WithAnswer(ctx context.Context, a *Answer) context.Context {
	return context.WithValue(ctx, answerKey{}, a)
}

// Do sends r, retrying in the request as Options allow. It returns the answer when the sink's
// Interpreter says delivered; otherwise an *sinks.Error whose text holds no secret.
//
// go-retryablehttp runs the attempts: checkRetry classifies each answer once (its verdict is the
// error it returns), and giveUp, the ErrorHandler, turns the last verdict into Do's error with the
// number of attempts.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, r.URL, r.Body)
	if err != nil {
		// The parse error quotes the URL: say only what to fix.
		return nil, sinks.Permanent(sinks.ReasonConfig, errors.New("build request: the sink's URL is not valid: fix it in the config"))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	resp, err := c.rc.Do(req)
	var answer *Response
	if resp != nil {
		// checkRetry has read the body into memory and closed the connection's.
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer = &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
		c.record(ctx, answer)
	}
	var se *sinks.Error
	switch {
	case err == nil:
		return answer, nil
	case errors.As(err, &se):
		return nil, err
	default:
		// go-retryablehttp returns the context's error itself when it ends during a backoff.
		return nil, c.transportError(err, 0)
	}
}

// record stores the receiver's answer in the Answer that ctx carries, if any (see WithAnswer).
func (c *Client) record(ctx context.Context, r *Response) {
	a, ok := ctx.Value(answerKey{}).(*Answer)
	if !ok || a == nil {
		return
	}
	a.Status, a.Summary = r.StatusCode, Summarize(r.Header.Get("Content-Type"), r.Body)
	if c.redact != nil {
		a.Summary = c.redact.Redact(a.Summary)
	}
	if c.maskAnswer != nil {
		a.Summary = c.maskAnswer(a.Summary)
	}
}

// classify is the one decision for every answer: a redirect is refused, anything else goes to the
// Interpreter; retryable results get the Retry-After delay, and every message is redacted.
func (c *Client) classify(status int, header http.Header, body []byte) *sinks.Error {
	var e *sinks.Error
	if status >= 300 && status < 400 {
		e = sinks.StatusError(status, 0, redirectHint)
	} else {
		e = c.interpret(status, header, body)
	}
	if e == nil {
		return nil
	}
	if e.Retryable && e.RetryAfter == 0 {
		e.RetryAfter = retryAfter(header, c.now())
	}
	if e.StatusCode == 0 {
		e.StatusCode = status
	}
	e.Err = c.redact.Wrap(e.Err)
	return e
}

// checkRetry is go-retryablehttp's CheckRetry, run once per attempt. It buffers the answer (so the
// connection is free again and Do reads the body from memory), classifies it, and returns that
// verdict as its error: nil when delivered, the *sinks.Error of a refused answer, or the transport
// error when no answer came. It retries only what is retryable, with any Retry-After short enough to
// wait for here, and nothing once ctx has ended.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err == nil {
		var body []byte
		if body, err = readBody(resp); err == nil {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			e := c.classify(resp.StatusCode, resp.Header, body)
			if e == nil {
				return false, nil // delivered: an answer that arrived counts even if ctx ended just after
			}
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return e.Retryable && e.RetryAfter <= c.maxRetryAfter, e
		}
		resp.Body = http.NoBody
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return retryableTransport(err), err
}

// giveUp is go-retryablehttp's ErrorHandler, called once when the request ends undelivered with the
// last attempt's verdict from checkRetry and the number of attempts made. It keeps a refused answer
// (its body already buffered), so that Do can record it, and turns a failure to get a complete answer
// into a classified error.
func (c *Client) giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	var se *sinks.Error
	if errors.As(err, &se) {
		return resp, err
	}
	if err == nil {
		// Not reached: checkRetry gives a verdict for every failed attempt.
		err = errors.New("no answer")
	}
	return nil, c.transportError(err, attempts) // checkRetry has closed any body
}

// backoff waits exactly Retry-After when the answer has one (checkRetry has bounded it), else doubles
// from min to max.
func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d := retryAfter(resp.Header, c.now()); d > 0 {
			return d
		}
	}
	wait := minWait << min(attempt, 16)
	return min(wait, maxWait)
}

// retryableTransport says whether a failure to get an answer is worth an immediate retry: a refused
// or reset connection is; a timeout (the receiver may be working on it; the queue retries later),
// an untrusted certificate and a cancelled request are not.
func retryableTransport(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return false
	}
	if ce := sinks.Classify(err); ce.Reason == sinks.ReasonTimeout {
		return false
	}
	return true
}

// transportError classifies a request that got no answer, stripping the URL that *url.Error carries.
func (c *Client) transportError(err error, attempts int) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	msg := "send request: " + inner.Error()
	if attempts > 1 {
		msg = fmt.Sprintf("send request (%d attempts): %s", attempts, inner.Error())
	}
	return sinks.Classify(c.redact.WrapMessage(msg, err))
}

// readBody reads at most BodyLimit bytes, drains a bounded remainder so the connection can be reused,
// and closes the body.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, BodyLimit))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit)) // best effort: only reuse depends on it
	return body, nil
}
