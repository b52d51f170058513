package sinks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Reason is why a delivery attempt failed: one of a small fixed set, used as a metric label.
type Reason string

// The reasons. Every failure maps to exactly one.
const (
	ReasonClientError Reason = "client_error" // the receiver rejected the request (4xx)
	ReasonServerError Reason = "server_error" // the receiver failed (5xx, Slack rollup_error)
	ReasonRateLimited Reason = "rate_limited" // 429 or Slack ratelimited
	ReasonTimeout     Reason = "timeout"      // no answer in time
	ReasonConnection  Reason = "connection"   // could not connect, TLS failed, connection reset
	ReasonAuth        Reason = "auth"         // credentials refused (401, 403, SMTP 535, invalid_auth)
	ReasonTemplate    Reason = "template"     // the message could not be rendered
	ReasonConfig      Reason = "config"       // the sink is missing or misconfigured
)

// Reasons lists every Reason, for initialising metric series.
var Reasons = []Reason{ReasonClientError, ReasonServerError, ReasonRateLimited, ReasonTimeout,
	ReasonConnection, ReasonAuth, ReasonTemplate, ReasonConfig}

// Error is a classified delivery failure.
type Error struct {
	Reason    Reason
	Retryable bool
	// RetryAfter, when positive, is the earliest the receiver allows the next attempt (Retry-After).
	RetryAfter time.Duration
	// StatusCode is the HTTP status or SMTP reply code, 0 when there was none.
	StatusCode int
	Err        error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Reason)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Retry returns a retryable error.
func Retry(reason Reason, err error) *Error {
	return &Error{Reason: reason, Retryable: true, Err: err}
}

// Permanent returns an error that no retry can fix.
func Permanent(reason Reason, err error) *Error {
	return &Error{Reason: reason, Err: err}
}

// Classify returns err as an *Error. An error that is not already one is classified as a timeout when
// it is a deadline or net timeout, and as a retryable connection failure otherwise.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return Retry(ReasonTimeout, err)
	}
	return Retry(ReasonConnection, err)
}

// ClassifyStatus is the one table for HTTP statuses, shared by every HTTP sink and by the in-request
// retries: 2xx succeeded; 408, 425, 429 and 5xx are retryable; 401 and 403 are permanent auth
// failures; every other status (other 4xx, and 1xx/3xx, since redirects are not followed) is a
// permanent client error.
func ClassifyStatus(code int) (ok, retryable bool, reason Reason) {
	switch {
	case code >= 200 && code < 300:
		return true, false, ""
	case code == http.StatusTooManyRequests:
		return false, true, ReasonRateLimited
	case code == http.StatusRequestTimeout:
		return false, true, ReasonTimeout
	case code == http.StatusTooEarly:
		return false, true, ReasonServerError
	case code >= 500:
		return false, true, ReasonServerError
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return false, false, ReasonAuth
	default:
		return false, false, ReasonClientError
	}
}

// StatusError returns the classified error for a non-2xx HTTP status, or nil for 2xx. detail is a short
// description of the receiver's answer (never a URL or secret).
func StatusError(code int, retryAfter time.Duration, detail string) *Error {
	ok, retryable, reason := ClassifyStatus(code)
	if ok {
		return nil
	}
	msg := fmt.Sprintf("receiver answered %d %s", code, http.StatusText(code))
	if detail != "" {
		msg += ": " + detail
	}
	return &Error{Reason: reason, Retryable: retryable, RetryAfter: retryAfter, StatusCode: code, Err: errors.New(msg)}
}
