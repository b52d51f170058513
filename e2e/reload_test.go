package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// postOne posts call id to r, requires a 202, and waits until the fake Slack got it; it returns the
// text Slack received.
func postOne(t *testing.T, s *sqliteSetup, r *relay, id int64) string {
	t.Helper()
	requireAllAccepted(t, newPoster(uint64(id)).postAll(context.Background(), []int64{id}, 1, func(int64) string { return r.base }, nil))
	s.slack.waitDelivered(deliveryDeadline, []string{slackKey(id)})
	texts := s.slack.textsOf(slackKey(id))
	return texts[len(texts)-1]
}

// TestSIGHUPReload changes the Slack text of the rule in the config file and sends SIGHUP: the next
// call follows the new rule. Then invalid configs are written and SIGHUP sent again: each is rejected,
// switchboard_config_last_reload_successful drops to 0, and calls still follow the last good rule.
func TestSIGHUPReload(t *testing.T) {
	s := newSQLiteSetup(t)
	s.cfg.SlackText = "call {{ id }} rule v1"
	s.cfg.write(t, s.configPath)
	r := s.start(t, "relay")

	if got := postOne(t, s, r, 6_000_001); !strings.HasSuffix(got, "rule v1") {
		t.Fatalf("slack text before reload: got %q, want it to end with \"rule v1\"", got)
	}

	s.cfg.SlackText = "call {{ id }} rule v2"
	s.cfg.write(t, s.configPath)
	r.hup()
	r.waitLog("config reloaded", 1)
	r.requireMetric(r.metrics(), "switchboard_config_last_reload_successful", nil, 1)
	if got := postOne(t, s, r, 6_000_002); !strings.HasSuffix(got, "rule v2") {
		t.Fatalf("slack text after reload: got %q, want it to end with \"rule v2\"", got)
	}

	tests := []struct {
		name   string
		broken string
	}{
		{name: "unknown field in a rule", broken: "  - name: broken\n    when: no_such_field == 1\n    actions:\n      - sink: slack\n        text: x\n"},
		{name: "undefined sink", broken: "  - name: broken\n    actions:\n      - sink: no-such-sink\n        text: x\n"},
		{name: "yaml syntax", broken: "  - name: [broken\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := s.cfg
			bad.Broken = tt.broken
			bad.SlackText = "call {{ id }} rule v3"
			bad.write(t, s.configPath)
			r.hup()
			r.waitLog("config reload rejected", i+1)
			m := r.metrics()
			r.requireMetric(m, "switchboard_config_last_reload_successful", nil, 0)
			id := int64(6_000_010 + i)
			if got := postOne(t, s, r, id); !strings.HasSuffix(got, "rule v2") {
				t.Errorf("slack text after a rejected reload: got %q, want the previous rule's, ending with \"rule v2\"", got)
			}
		})
	}

	// The same rejection through POST /-/reload answers 400 with the problems.
	status, body := r.postAPI("/-/reload")
	var answer struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}
	if status != http.StatusBadRequest || json.Unmarshal([]byte(body), &answer) != nil || len(answer.Problems) == 0 {
		t.Errorf("POST /-/reload with an invalid config: got %d %s, want 400 with a list of problems", status, body)
	}

	// A good config again: reload succeeds and the gauge is back to 1.
	s.cfg.write(t, s.configPath)
	r.hup()
	r.waitLog("config reloaded", 2)
	r.requireMetric(r.metrics(), "switchboard_config_last_reload_successful", nil, 1)
	r.stop()
	r.assertNoSecrets(s.secrets()...)
}

// TestFixSinkURLThenRetry: sink connection settings are read at delivery, not at ingest. A Slack
// webhook URL that was revoked makes a dead letter; after the URL in the config is replaced and the
// config reloaded, POST /api/deliveries/{id}/retry sends the same message to the new URL.
func TestFixSinkURLThenRetry(t *testing.T) {
	s := newSQLiteSetup(t)
	s.slack.setMode(modeNoService)
	r := s.start(t, "relay")
	const id = 6_100_001
	requireAllAccepted(t, newPoster(61).postAll(context.Background(), []int64{id}, 1, func(int64) string { return r.base }, nil))
	dead := waitDead(t, r, 1)

	fixed := newSlack(t)
	s.cfg.SlackURL = fixed.url()
	s.cfg.write(t, s.configPath)
	r.hup()
	r.waitLog("config reloaded", 1)

	path := "/api/deliveries/" + strconv.FormatInt(dead[0].ID, 10) + "/retry"
	if status, body := r.postAPI(path); status != http.StatusOK || !strings.Contains(body, `"requeued":1`) {
		t.Fatalf("POST %s: got %d %s, want 200 {\"requeued\":1}", path, status, body)
	}
	fixed.waitDelivered(deliveryDeadline, []string{slackKey(id)})
	if got := fixed.textsOf(slackKey(id)); len(got) != 1 || !strings.HasPrefix(got[0], "call 6100001 ") {
		t.Errorf("text at the fixed URL: got %q, want one message starting \"call 6100001 \"", got)
	}
	if n := len(s.slack.arrivalsOf(slackKey(id))); n != 1 {
		t.Errorf("requests to the revoked URL: got %d, want 1", n)
	}
	r.stop()
}
