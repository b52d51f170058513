package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// crashLog is what the crashtest binary logs right before it kills itself (relay/crashtest.go).
const crashLog = "crash test: killing the process after the commit, before the hand-off"

// leasedLog finds the ids of the deliveries the crashtest binary leased in its log line.
var leasedLog = regexp.MustCompile(`msg="` + crashLog + `" call_id=\d+ leased="?\[([\d ]+)\]`)

// crashAfterCommit starts the crashtest binary on cfg, posts one call, and asserts that the relay
// killed itself after committing it and before handing its deliveries to the workers: no answer,
// nothing sent. It returns the call's id and the ids of its deliveries, all stored leased.
func crashAfterCommit(t *testing.T, cfg relayConfig, configPath string, slack, crm *receiver) (int64, map[int64]bool) {
	t.Helper()
	r1 := startBinary(t, crashtestBinary(t), "relay-1", configPath, cfg.Listen, "SWITCHBOARD_TEST_CRASH_AFTER_COMMIT=1")
	// Workers take fresh work once they know their sink's state, which the gauge shows.
	for _, sink := range []string{"slack", "crm"} {
		r1.waitMetric("switchboard_sink_state", map[string]string{"sink": sink, "state": "active"}, 1)
	}
	const id = 9_000_001
	res := newPoster(testSeed(t)).post(context.Background(), r1.base, id)
	if res.Err == nil {
		t.Fatalf("post to the relay that crashes after the commit: got status %d %s, want no answer", res.Status, res.Body)
	}
	if code := r1.wait(); code == 0 {
		t.Fatalf("relay-1: exit status 0, want killed")
	}
	m := leasedLog.FindStringSubmatch(r1.out.String())
	if m == nil {
		t.Fatalf("relay-1 exited without logging %q with the leased deliveries: it did not crash where this test means", crashLog)
	}
	leased := map[int64]bool{}
	for _, f := range strings.Fields(m[1]) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("leased delivery id %q in the log: %v", f, err)
		}
		leased[id] = true
	}
	if len(leased) != testSinks {
		t.Fatalf("relay-1 leased deliveries %v, want all %d: its workers were ready and free", leased, testSinks)
	}
	if n, m := slack.stats().Requests, crm.stats().Requests; n+m != 0 {
		t.Fatalf("before the restart the sinks got %d and %d requests, want none: the crash came before the hand-off", n, m)
	}
	return id, leased
}

// requireDeliveredOnce asserts that call id reached both sinks exactly once, after the relay r
// restarted, with the attempt cut short by the crash counted.
func requireDeliveredOnce(t *testing.T, r *relay, id int64, leased map[int64]bool, slack, crm *receiver) {
	t.Helper()
	slackKeys, crmKeys := keysOf([]int64{id})
	slack.waitDelivered(loadDeadline, slackKeys)
	crm.waitDelivered(loadDeadline, crmKeys)
	r.waitQueueEmpty()
	requireBoundedDuplicates(t, slack, 0, "the crash came before any send")
	requireBoundedDuplicates(t, crm, 0, "the crash came before any send")
	delivered := r.deliveries("delivered")
	if len(delivered) != testSinks {
		t.Fatalf("delivered deliveries: got %d, want %d", len(delivered), testSinks)
	}
	for _, d := range delivered {
		if d.CallID != id || !leased[d.ID] || d.Attempts != 2 {
			t.Errorf("delivery %+v: want one of %v, of call %d, after 2 attempts (the one the crash cut short counts)", d, leased, id)
		}
	}
}

// TestCrashBetweenCommitAndHandOff kills the relay (SQLite) right after it committed a call whose
// deliveries it leased to its own workers, before handing them over. The restarted relay makes them
// due at once (RecoverInFlight) and delivers them.
func TestCrashBetweenCommitAndHandOff(t *testing.T) {
	s := newSQLiteSetup(t)
	id, leased := crashAfterCommit(t, s.cfg, s.configPath, s.slack, s.crm)
	r2 := s.start(t, "relay-2")
	r2.waitLog("deliveries interrupted by the last shutdown will be retried now", 1)
	requireDeliveredOnce(t, r2, id, leased, s.slack, s.crm)
	r2.stop()
}

// TestPostgresCrashBetweenCommitAndHandOff is TestCrashBetweenCommitAndHandOff on PostgreSQL, where
// the restarted relay (or any replica) claims the deliveries once their lease (storage.lease)
// expires.
func TestPostgresCrashBetweenCommitAndHandOff(t *testing.T) {
	base := os.Getenv(postgresDSNEnv)
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgresDSNEnv)
	}
	slack, crm := newSlack(t), newCRM(t)
	cfg := relayConfig{Listen: freeAddr(t), PostgresDSN: freshSchema(t, base), SlackURL: slack.url(), CRMURL: crm.url()}
	path := filepath.Join(t.TempDir(), "switchboard.yaml")
	cfg.write(t, path)
	id, leased := crashAfterCommit(t, cfg, path, slack, crm)
	r2 := startRelay(t, "relay-2", path, cfg.Listen)
	requireDeliveredOnce(t, r2, id, leased, slack, crm)
	r2.stop()
}
