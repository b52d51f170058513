package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// notifyDeadline bounds the wait for a dead_letters notification: group_wait plus a few seconds for
// the death to be noticed, the group flushed and the notification sent.
func notifyDeadline(groupWait time.Duration) time.Duration { return groupWait + 5*time.Second }

// notifySetup is an SQLite setup whose config also has the sink "ops" (a fake Slack) told of dead
// deliveries, grouped for groupWait.
func notifySetup(t *testing.T, groupWait time.Duration) (*sqliteSetup, *receiver) {
	t.Helper()
	s := newSQLiteSetup(t)
	ops := newSlack(t)
	s.cfg.OpsURL, s.cfg.GroupWait = ops.url(), groupWait.String()
	s.cfg.write(t, s.configPath)
	return s, ops
}

// opsTexts returns every text the ops fake received for the calls of ids.
func opsTexts(ops *receiver, ids []int64) []string {
	var out []string
	for _, id := range ids {
		out = append(out, ops.textsOf(slackKey(id))...)
	}
	return out
}

// TestDeadLetterNotifiesOnce: a hot lead whose CRM answers 400 becomes a dead letter, and within
// group_wait and a few seconds ops hears of it once, in a message naming the call and the sink. The
// notification is a delivery of its own in the API, without a call.
func TestDeadLetterNotifiesOnce(t *testing.T) {
	const groupWait = 2 * time.Second
	s, ops := notifySetup(t, groupWait)
	s.crm.setMode(modeBadRequest)
	r := s.start(t, "relay")

	const id = 5_000_001
	requireAllAccepted(t, newPoster(5).postAll(context.Background(), []int64{id}, 1, func(int64) string { return r.base }, nil))
	ops.waitRequests(notifyDeadline(groupWait), 1)

	texts := opsTexts(ops, []int64{id})
	if len(texts) != 1 {
		t.Fatalf("ops messages naming call %d: got %d (%q), want 1", id, len(texts), texts)
	}
	for _, want := range []string{"1 delivery to crm failed", "call " + strconv.Itoa(id) + ", rule " + ruleName + ", sink crm: client_error"} {
		if !strings.Contains(texts[0], want) {
			t.Errorf("notification %q does not contain %q", texts[0], want)
		}
	}
	m := r.waitMetric("switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "delivered"}, 1)
	r.requireMetric(m, "switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "queued"}, 1)
	var out struct {
		Deliveries []apiDelivery `json:"deliveries"`
	}
	r.getJSON("/api/deliveries?sink=ops", http.StatusOK, &out)
	if len(out.Deliveries) != 1 || out.Deliveries[0].CallID != 0 || out.Deliveries[0].Rule != "notify:dead_letters" ||
		out.Deliveries[0].State != "delivered" {
		t.Errorf("deliveries to ops: %+v, want one delivered notify:dead_letters without a call", out.Deliveries)
	}
	if n := ops.stats().Requests; n != 1 {
		t.Errorf("ops requests: got %d, want 1", n)
	}
	r.stop()
	r.assertNoSecrets(append(s.secrets(), strings.TrimPrefix(slackSecretPath, "/services/"))...)
}

// TestTenDeadOneMessage: ten calls whose CRM delivery dies within one group_wait make one message
// listing the ten.
func TestTenDeadOneMessage(t *testing.T) {
	const groupWait = 3 * time.Second
	s, ops := notifySetup(t, groupWait)
	s.crm.setMode(modeBadRequest)
	r := s.start(t, "relay")

	ids := idRange(5_100_001, 10)
	requireAllAccepted(t, newPoster(6).postAll(context.Background(), ids, 10, func(int64) string { return r.base }, nil))
	ops.waitRequests(notifyDeadline(groupWait), 1)
	texts := opsTexts(ops, ids)
	if len(texts) != 1 || !strings.Contains(texts[0], "10 deliveries to crm failed") {
		t.Fatalf("ops messages: %q, want one saying \"10 deliveries to crm failed\"", texts)
	}
	for _, id := range ids {
		if !strings.Contains(texts[0], "call "+strconv.FormatInt(id, 10)+",") {
			t.Errorf("the message does not name call %d:\n%s", id, texts[0])
		}
	}
	// All ten are in the one message, so no death is left for another.
	m := r.waitMetric("switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "delivered"}, 1)
	r.requireMetric(m, "switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "queued"}, 1)
	r.requireMetric(m, "switchboard_deliveries_total", map[string]string{"sink": "crm", "outcome": "dead"}, 10)
	r.stop()
}

// TestDeadNotificationNotNotified: the ops webhook is revoked (404), so the notification of a CRM
// death dies itself; it is counted, and never becomes a notification of its own. Once ops works, the
// next CRM death is notified alone.
func TestDeadNotificationNotNotified(t *testing.T) {
	const groupWait = time.Second
	s, ops := notifySetup(t, groupWait)
	s.crm.setMode(modeBadRequest)
	ops.setMode(modeNoService)
	r := s.start(t, "relay")

	const first, second = 5_400_001, 5_400_002
	requireAllAccepted(t, newPoster(9).postAll(context.Background(), []int64{first}, 1, func(int64) string { return r.base }, nil))
	r.waitMetric("switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "dead"}, 1)

	ops.setMode(modeOK)
	requireAllAccepted(t, newPoster(9).postAll(context.Background(), []int64{second}, 1, func(int64) string { return r.base }, nil))
	m := r.waitMetric("switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "delivered"}, 1)
	r.requireMetric(m, "switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "queued"}, 2)
	texts := ops.textsOf(slackKey(second))
	if len(texts) != 1 || !strings.Contains(texts[0], "1 delivery to crm failed") || strings.Contains(texts[0], "sink ops") {
		t.Errorf("ops messages about call %d: %q, want one about the CRM alone (the dead notification is not notified)", second, texts)
	}
	r.stop()
}

// TestFilteredReplay: the CRM rejects (400) and the Slack webhook is revoked (404), so every call's two
// deliveries die. Once the CRM is fixed, a replay filtered to the CRM requeues only the CRM's; the
// Slack ones stay dead until their own filtered retry through the API.
func TestFilteredReplay(t *testing.T) {
	s, _ := notifySetup(t, time.Second)
	s.crm.setMode(modeBadRequest)
	s.slack.setMode(modeNoService)
	r := s.start(t, "relay")

	ids := idRange(5_200_001, 3)
	requireAllAccepted(t, newPoster(7).postAll(context.Background(), ids, 3, func(int64) string { return r.base }, nil))
	waitDead(t, r, 6)
	slackKeys, crmKeys := keysOf(ids)
	s.crm.setMode(modeOK)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"dry run lists", []string{"--sink", "crm", "--dry-run"}, "would requeue 3 deliveries (dry run: nothing requeued)"},
		{"nothing matches", []string{"--rule", "no-such-rule"}, "requeued 0 deliveries (no dead delivery matches)"},
		{"died later than now", []string{"--sink", "crm", "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "requeued 0 deliveries (no dead delivery matches)"},
		{"the CRM's", []string{"--sink", "crm", "--reason", "client_error", "--since", "1h"}, "requeued 3 deliveries"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCommand(t, append([]string{"replay", "--config", s.configPath, "--dead"}, tt.args...)...)
		if code != 0 || !strings.Contains(stdout, tt.want) {
			t.Fatalf("%s: replay: exit %d, stdout %q, stderr %q; want exit 0 and %q", tt.name, code, stdout, stderr, tt.want)
		}
	}
	s.crm.waitDelivered(deliveryDeadline, crmKeys)
	var slackDead int
	for _, d := range r.deliveries("dead") {
		if d.Sink != "slack" {
			t.Errorf("dead delivery %d to %s after the CRM replay, want only Slack's left", d.ID, d.Sink)
		}
		slackDead++
	}
	if slackDead != 3 || s.slack.stats().Deliveries != 0 {
		t.Errorf("after the CRM replay: %d Slack deliveries dead and %d delivered, want 3 and 0", slackDead, s.slack.stats().Deliveries)
	}

	s.slack.setMode(modeOK)
	if code, answer := postJSON(t, r, "/api/deliveries/retry", `{"sink":"slack","since":"1h"}`); code != http.StatusOK || answer != `{"requeued":3}` {
		t.Fatalf("POST /api/deliveries/retry: %d %s, want 200 {\"requeued\":3}", code, answer)
	}
	s.slack.waitDelivered(deliveryDeadline, slackKeys)
	if dead := r.deliveries("dead"); len(dead) != 0 {
		t.Errorf("dead deliveries after both replays: %d, want 0", len(dead))
	}
	r.stop()
}

// postJSON POSTs body to path on r and returns the status and the answer without its final newline.
func postJSON(t *testing.T, r *relay, path, body string) (int, string) {
	t.Helper()
	resp, err := apiClient.Post(r.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read answer: %v", path, err)
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		t.Fatalf("POST %s: answer %q is not JSON", path, b)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestPostgresReplicasNotifyOnce: three replicas share one PostgreSQL schema and the CRM answers 400;
// ten calls spread over the replicas die within one group_wait, and ops hears of them in one
// message, sent by one replica.
func TestPostgresReplicasNotifyOnce(t *testing.T) {
	base := os.Getenv(postgresDSNEnv)
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the replica test", postgresDSNEnv)
	}
	const groupWait = 3 * time.Second
	dsn := freshSchema(t, base)
	slack, crm, ops := newSlack(t), newCRM(t), newSlack(t)
	crm.setMode(modeBadRequest)
	dir := t.TempDir()
	rs := make([]*relay, 3)
	for i := range rs {
		cfg := relayConfig{Listen: freeAddr(t), PostgresDSN: dsn, SlackURL: slack.url(), CRMURL: crm.url(),
			OpsURL: ops.url(), GroupWait: groupWait.String()}
		path := filepath.Join(dir, "replica-"+strconv.Itoa(i)+".yaml")
		cfg.write(t, path)
		rs[i] = startRelay(t, "replica-"+strconv.Itoa(i), path, cfg.Listen)
	}
	ids := idRange(5_300_001, 10)
	requireAllAccepted(t, newPoster(8).postAll(context.Background(), ids, 10, func(id int64) string { return rs[int(id)%len(rs)].base }, nil))
	ops.waitRequests(notifyDeadline(groupWait), 1)
	texts := opsTexts(ops, ids)
	if len(texts) != 1 || !strings.Contains(texts[0], "10 deliveries to crm failed") {
		t.Fatalf("ops messages: %q, want one saying \"10 deliveries to crm failed\"", texts)
	}
	// The replica that queued the notification counts it just after its commit, so the message may
	// reach ops a moment before the count does: poll the sum over the replicas.
	queuedSum := func() float64 {
		sum := 0.0
		for _, r := range rs {
			v, _ := metric(r.metrics(), "switchboard_notifications_total", map[string]string{"kind": "dead_letters", "outcome": "queued"})
			sum += v
		}
		return sum
	}
	deadline := time.NewTimer(readyDeadline)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	queued := queuedSum()
	for queued < 1 {
		select {
		case <-tick.C:
			queued = queuedSum()
		case <-deadline.C:
			t.Fatalf("no replica counted the notification as queued within %s", readyDeadline)
		}
	}
	if queued != 1 {
		t.Errorf("dead_letters notifications queued by the three replicas: %v, want 1", queued)
	}
	for _, r := range rs {
		r.stop()
	}
}
