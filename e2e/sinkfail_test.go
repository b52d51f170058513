package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// deliveryDeadline bounds waits for deliveries in the small tests; it is far above what they need.
const deliveryDeadline = 60 * time.Second

// TestSinkOutage: Slack answers 503 until it has seen outageRequests requests, then recovers. Ingest
// never depends on delivery, so every webhook posted during the outage is accepted at once, and once
// Slack is back every message reaches it; nothing becomes a dead letter.
func TestSinkOutage(t *testing.T) {
	const calls, outageRequests = 40, 30
	s := newSQLiteSetup(t)
	s.slack.setMode(modeUnavailable)
	r := s.start(t, "relay")

	ids := idRange(1_000_001, calls)
	results := newPoster(1).postAll(context.Background(), ids, 8, func(int64) string { return r.base }, nil)
	requireAllAccepted(t, results)
	if got := s.slack.stats().Deliveries; got != 0 {
		t.Fatalf("slack delivered %d during the outage, want 0", got)
	}

	s.slack.waitRequests(deliveryDeadline, outageRequests)
	s.slack.setMode(modeOK)
	slackKeys, crmKeys := keysOf(ids)
	s.slack.waitDelivered(deliveryDeadline, slackKeys)
	s.crm.waitDelivered(deliveryDeadline, crmKeys)

	m := r.waitMetric("switchboard_deliveries_total", map[string]string{"sink": "crm", "outcome": "delivered"}, calls)
	m = r.waitMetric("switchboard_deliveries_total", map[string]string{"sink": "slack", "outcome": "delivered"}, calls)
	retries, _ := metric(m, "switchboard_delivery_attempts_total", map[string]string{"sink": "slack", "result": "retry", "reason": "server_error"})
	if retries < 1 {
		t.Errorf("slack retry attempts with reason server_error = %v, want at least 1", retries)
	}
	r.requireMetric(m, "switchboard_deliveries_total", map[string]string{"sink": "slack", "outcome": "dead"}, 0)
	r.requireMetric(m, "switchboard_deliveries_total", map[string]string{"sink": "slack", "outcome": "delivered"}, calls)
	r.requireMetric(m, "switchboard_webhooks_received_total", map[string]string{"outcome": "accepted"}, calls)
	if dead := r.deliveries("dead"); len(dead) != 0 {
		t.Errorf("dead deliveries after the outage: got %d (first %+v), want 0", len(dead), dead[0])
	}
	r.stop()
	r.assertNoSecrets(s.secrets()...)
}

// TestSlackRetryAfter: Slack answers the first attempt 429 with Retry-After. The relay must not post
// again before that many seconds have passed (Slack may disable apps that do), whether it waits
// within the request (a short Retry-After) or hands the wait to the queue (one longer than the
// transport waits in a request, 5s). This checks a lower bound on the wait, measured on arrival at
// the fake, not a speed.
func TestSlackRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
	}{
		{name: "waited in the request", retryAfter: 2 * time.Second},
		{name: "waited in the queue", retryAfter: 6 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSQLiteSetup(t)
			s.slack.retryAfter.Store(int64(tt.retryAfter / time.Second))
			s.slack.failNext(1, modeRateLimited)
			r := s.start(t, "relay")

			const id = 2_000_001
			requireAllAccepted(t, newPoster(2).postAll(context.Background(), []int64{id}, 1, func(int64) string { return r.base }, nil))
			s.slack.waitDelivered(deliveryDeadline, []string{slackKey(id)})

			got := s.slack.arrivalsOf(slackKey(id))
			if len(got) != 2 {
				t.Fatalf("slack requests for call %d: got %d, want 2 (one 429, one accepted)", id, len(got))
			}
			if gap := got[1].Sub(got[0]); gap < tt.retryAfter {
				t.Errorf("second attempt came %s after the 429, want no earlier than Retry-After %s", gap, tt.retryAfter)
			}
			r.stop()
		})
	}
}

// TestPermanentSlackError: a Slack answer that no retry can fix makes the delivery a dead letter after
// exactly one attempt. After the sink is fixed, `switchboard replay --dead` (a separate process on
// the same database) puts it back and the running relay delivers it.
func TestPermanentSlackError(t *testing.T) {
	tests := []struct {
		name       string
		mode       mode
		wantStatus int
	}{
		{name: "404 no_service", mode: modeNoService, wantStatus: http.StatusNotFound},
		{name: "410 channel_is_archived", mode: modeArchived, wantStatus: http.StatusGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSQLiteSetup(t)
			s.slack.setMode(tt.mode)
			r := s.start(t, "relay")

			const id = 3_000_001
			requireAllAccepted(t, newPoster(3).postAll(context.Background(), []int64{id}, 1, func(int64) string { return r.base }, nil))
			s.crm.waitDelivered(deliveryDeadline, []string{crmKey(id)})
			s.slack.waitRequests(deliveryDeadline, 1)
			dead := waitDead(t, r, 1)

			d := dead[0]
			if d.CallID != id || d.Sink != "slack" || d.Attempts != 1 || d.LastStatus != tt.wantStatus {
				t.Errorf("dead delivery: got call %d sink %q attempts %d status %d, want call %d sink \"slack\" attempts 1 status %d",
					d.CallID, d.Sink, d.Attempts, d.LastStatus, id, tt.wantStatus)
			}
			if d.LastReason != "client_error" {
				t.Errorf("dead delivery reason: got %q, want \"client_error\"", d.LastReason)
			}
			if n := len(s.slack.arrivalsOf(slackKey(id))); n != 1 {
				t.Errorf("slack requests for call %d: got %d, want exactly 1 (a permanent error is not retried)", id, n)
			}
			m := r.waitMetric("switchboard_deliveries_total", map[string]string{"sink": "slack", "outcome": "dead"}, 1)
			r.requireMetric(m, "switchboard_deliveries_total", map[string]string{"sink": "slack", "outcome": "dead"}, 1)
			r.requireMetric(m, "switchboard_deliveries_total", map[string]string{"sink": "slack", "outcome": "delivered"}, 0)

			// Fix the sink, then replay from the command line.
			s.slack.setMode(modeOK)
			code, stdout, stderr := runCommand(t, "replay", "--dead", "--config", s.configPath)
			if code != 0 || !strings.Contains(stdout, "requeued 1 deliveries") {
				t.Fatalf("switchboard replay --dead: exit %d, stdout %q, stderr %q; want exit 0 and \"requeued 1 deliveries\"", code, stdout, stderr)
			}
			s.slack.waitDelivered(deliveryDeadline, []string{slackKey(id)})
			if n := s.slack.deliveredCount(slackKey(id)); n != 1 {
				t.Errorf("slack deliveries of call %d after replay: got %d, want 1", id, n)
			}
			if dead := r.deliveries("dead"); len(dead) != 0 {
				t.Errorf("dead deliveries after replay: got %d, want 0", len(dead))
			}
			r.stop()
			r.assertNoSecrets(s.secrets()...)
		})
	}
}

// waitDead polls GET /api/deliveries?state=dead until it lists n deliveries. The relay offers no
// push signal for a dead letter, so this polls the admin API at a short interval with a deadline.
func waitDead(t *testing.T, r *relay, n int) []apiDelivery {
	t.Helper()
	deadline := time.NewTimer(deliveryDeadline)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		dead := r.deliveries("dead")
		if len(dead) >= n {
			return dead
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("dead deliveries: got %d within %s, want %d", len(dead), deliveryDeadline, n)
		}
	}
}
