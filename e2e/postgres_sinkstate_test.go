package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPostgresReplicasShareSinkState runs two relays on one PostgreSQL schema:
//
//   - a pause asked of one replica holds back the CRM deliveries of calls posted to the other, and a
//     resume asked of the other sends them all;
//   - a CRM down past hold_after is held once for both (one replica makes the change and logs it),
//     its deliveries outlive max_age, and the first successful probe makes it active again for both.
func TestPostgresReplicasShareSinkState(t *testing.T) {
	base := os.Getenv(postgresDSNEnv)
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgresDSNEnv)
	}
	dsn := freshSchema(t, base)
	slack, crm := newSlack(t), newCRM(t)
	dir := t.TempDir()
	rs := make([]*relay, 2)
	for i := range rs {
		cfg := relayConfig{Listen: freeAddr(t), PostgresDSN: dsn, SlackURL: slack.url(), CRMURL: crm.url(),
			HoldAfter: "2s", ProbeInterval: "500ms", MaxAge: "4s"}
		path := filepath.Join(dir, "replica-"+strconv.Itoa(i)+".yaml")
		cfg.write(t, path)
		rs[i] = startRelay(t, "replica-"+strconv.Itoa(i), path, cfg.Listen)
	}

	// Pause on replica 0, post to replica 1.
	if code, body := rs[0].postAPI("/api/sinks/crm/pause"); code != http.StatusOK {
		t.Fatalf("pause on replica-0: %d %s", code, body)
	}
	ids := idRange(8_000_001, 4)
	requireAllAccepted(t, newPoster(8).postAll(context.Background(), ids, 2, func(int64) string { return rs[1].base }, nil))
	slackKeys, crmKeys := keysOf(ids)
	slack.waitDelivered(deliveryDeadline, slackKeys)
	for _, r := range rs {
		r.waitMetric("switchboard_sink_state", map[string]string{"sink": "crm", "state": "paused"}, 1)
	}
	if got := rs[1].sink("crm"); got.State != "paused" || got.Pending != len(ids) {
		t.Errorf("crm on replica-1 = %+v, want paused with %d pending", got, len(ids))
	}
	if n := crm.stats().Requests; n != 0 {
		t.Fatalf("paused crm received %d requests, want 0", n)
	}
	if code, body := rs[1].postAPI("/api/sinks/crm/resume"); code != http.StatusOK {
		t.Fatalf("resume on replica-1: %d %s", code, body)
	}
	crm.waitDelivered(deliveryDeadline, crmKeys)

	// The CRM goes down: held once, for both.
	crm.setMode(modeUnavailable)
	down := idRange(8_100_001, 4)
	requireAllAccepted(t, newPoster(9).postAll(context.Background(), down, 2, func(id int64) string { return rs[int(id)%2].base }, nil))
	_, downKeys := keysOf(down)
	for _, r := range rs {
		r.waitMetric("switchboard_sink_state", map[string]string{"sink": "crm", "state": "held"}, 1)
	}
	// Probes, by whichever replica holds the probe lease, for over max_age.
	waitProbes := func(n int) {
		for {
			total := 0
			var changed []<-chan struct{}
			for _, r := range rs {
				c, ch := r.out.count(`msg="probing held sink"`)
				total += c
				changed = append(changed, ch)
			}
			if total >= n {
				return
			}
			select {
			case <-changed[0]:
			case <-changed[1]:
			case <-rs[0].done:
				t.Fatal("replica-0 exited")
			case <-rs[1].done:
				t.Fatal("replica-1 exited")
			}
		}
	}
	waitProbes(10)
	if dead := rs[0].deliveries("dead"); len(dead) != 0 {
		t.Fatalf("dead deliveries while held: %d (first %+v), want 0", len(dead), dead[0])
	}
	crm.setMode(modeOK)
	crm.waitDelivered(deliveryDeadline, downKeys)
	for _, r := range rs {
		r.waitMetric("switchboard_sink_state", map[string]string{"sink": "crm", "state": "active"}, 1)
	}
	held, recovered := 0, 0
	for _, r := range rs {
		out := r.out.String()
		held += strings.Count(out, `msg="sink held`)
		recovered += strings.Count(out, `msg="sink recovered`)
	}
	if held != 1 || recovered != 1 {
		t.Errorf("across both replicas: %d \"sink held\" and %d \"sink recovered\" lines, want 1 each (one replica makes each change)", held, recovered)
	}
	if dead := rs[1].deliveries("dead"); len(dead) != 0 {
		t.Errorf("dead deliveries after recovery: %d, want 0", len(dead))
	}
	for _, r := range rs {
		r.stop()
	}
}
