package httpsink

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps a Retry-After delay, in either form: a day is already longer than any retry
// window, and an absurd value (a year 9999 date) must not turn into a dead letter or an overflow.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header value, either delay-seconds ("120") or an HTTP date
// ("Wed, 21 Oct 2026 07:28:00 GMT"), relative to now, capped at MaxRetryAfter. A date in the past
// gives 0 with ok true; an empty or malformed value gives ok false.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Cap before converting, so that a huge number cannot overflow.
		return time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	// Sub saturates instead of overflowing, so a far date is capped like a huge number.
	return min(max(t.Sub(now), 0), MaxRetryAfter), true
}

// retryAfter returns the Retry-After delay of a response header, 0 when absent or malformed.
func retryAfter(h http.Header, now time.Time) time.Duration {
	d, _ := ParseRetryAfter(h.Get("Retry-After"), now)
	return d
}
