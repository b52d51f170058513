package httpsink

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After header value, either delay-seconds ("120") or an HTTP date
// ("Wed, 21 Oct 2026 07:28:00 GMT"), relative to now. A date in the past gives 0 with ok true; an
// empty or malformed value gives ok false.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Cap absurd values instead of overflowing: a day is already longer than any retry window.
		const maxSecs = 24 * 60 * 60
		return time.Duration(min(secs, maxSecs)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// retryAfter returns the Retry-After delay of a response header, 0 when absent or malformed.
func retryAfter(h http.Header, now time.Time) time.Duration {
	d, _ := ParseRetryAfter(h.Get("Retry-After"), now)
	return d
}
