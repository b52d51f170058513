package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestRetryLogShowsNextAttempt: when a delivery is retried, the relay logs when the next attempt is
// due (next_attempt=<RFC 3339 time>). Phone-number masking must not eat the date: a timestamp such as
// 2026-11-26 is not a phone number.
func TestRetryLogShowsNextAttempt(t *testing.T) {
	s := newSQLiteSetup(t)
	// Three 503s: the first attempt and its two quick in-request retries, so the queue retries it.
	s.slack.failNext(3, modeUnavailable)
	r := s.start(t, "relay")
	const id = 8_000_001
	requireAllAccepted(t, newPoster(8).postAll(context.Background(), []int64{id}, 1, func(int64) string { return r.base }, nil))
	s.slack.waitDelivered(deliveryDeadline, []string{slackKey(id)})
	r.waitLog("delivery will be retried", 1)
	r.stop()

	line := ""
	for l := range strings.Lines(r.out.String()) {
		if strings.Contains(l, "delivery will be retried") {
			line = l
			break
		}
	}
	want := regexp.MustCompile(`next_attempt=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`)
	if !want.MatchString(line) {
		t.Errorf("retry log line: got %q, want next_attempt as an RFC 3339 time matching %s", strings.TrimSpace(line), want)
	}
}
