package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresDSNEnv names the PostgreSQL server for the replica test; CI sets it.
const postgresDSNEnv = "SWITCHBOARD_TEST_POSTGRES_DSN"

// freshSchema creates a schema with a unique name on the server at dsn, drops it (with everything
// in it) at cleanup, and returns dsn with its search_path set to it.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", postgresDSNEnv, err)
	}
	schema := fmt.Sprintf("e2e_%d_%d", time.Now().Unix(), rand.IntN(1_000_000))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		conn.Close(ctx)
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		conn.Close(ctx)
	})
	t.Logf("schema %s", schema)
	return withSearchPath(t, dsn, schema)
}

// withSearchPath sets search_path in a libpq URL or key=value connection string.
func withSearchPath(t *testing.T, dsn, schema string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s is not a valid URL: %v", postgresDSNEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestPostgresReplicas runs three relays on one PostgreSQL schema, spreads a few thousand webhooks
// over them at concurrency 32 (as a load balancer would, sending a failed post to another replica),
// and SIGKILLs one replica mid-load at a random moment (seeded, logged). Then:
//
//   - zero lost: every acknowledged call reaches both fake sinks; the killed replica's claimed
//     deliveries are taken over by the others once its leases (storage.lease, 3s) expire;
//   - duplicates per sink are bounded by the killed replica's in-flight leases: at most
//     defaults.concurrency per sink (claims are exclusive between live replicas);
//   - the same call id posted to two replicas at once is accepted once (202) and reported as a
//     duplicate (200) by the other;
//   - a dead letter is visible on every replica, and `switchboard replay --dead` (another process)
//     wakes the replicas through the shared store, which deliver it.
func TestPostgresReplicas(t *testing.T) {
	base := os.Getenv(postgresDSNEnv)
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the replica test", postgresDSNEnv)
	}
	const total, replicas = 2000, 3
	seed := testSeed(t)
	killAfter := 300 + rand.New(rand.NewPCG(seed, 3)).IntN(500)
	const victim = 1
	t.Logf("SIGKILL replica-%d after %d acknowledged calls", victim, killAfter)

	dsn := freshSchema(t, base)
	slack, crm := newSlack(t), newCRM(t)
	dir := t.TempDir()
	rs := make([]*relay, replicas)
	for i := range rs {
		cfg := relayConfig{Listen: freeAddr(t), PostgresDSN: dsn, SlackURL: slack.url(), CRMURL: crm.url()}
		path := filepath.Join(dir, "replica-"+strconv.Itoa(i)+".yaml")
		cfg.write(t, path)
		rs[i] = startRelay(t, "replica-"+strconv.Itoa(i), path, cfg.Listen)
	}
	alive := func() []*relay {
		var out []*relay
		for _, r := range rs {
			if !r.exited() {
				out = append(out, r)
			}
		}
		return out
	}
	spread := func(id int64) string {
		a := alive()
		return a[int(id)%len(a)].base
	}

	p := newPoster(seed)
	ids := idRange(7_000_001, total)
	l := newLedger()
	l.add(t, loadRun(t, p, ids, func(id int64) string { return rs[int(id)%replicas].base }, killAfter, rs[victim].kill))
	t.Logf("before the kill: %d acknowledged, %d without answer, %d not posted", len(l.acked), len(l.unanswered), len(l.notPosted(ids)))
	l.add(t, p.postAll(context.Background(), l.unansweredIDs(), postConcurrency, spread, nil))
	l.add(t, p.postAll(context.Background(), l.notPosted(ids), postConcurrency, spread, nil))
	if len(l.acked) != total {
		t.Fatalf("acknowledged calls: got %d, want %d (%d still without answer)", len(l.acked), total, len(l.unanswered))
	}

	slackKeys, crmKeys := keysOf(l.ackedIDs())
	slack.waitDelivered(loadDeadline, slackKeys)
	crm.waitDelivered(loadDeadline, crmKeys)
	alive()[0].waitQueueEmpty()
	why := "the killed replica's in-flight leases: defaults.concurrency " + strconv.Itoa(testConcurrency) + " per sink"
	requireBoundedDuplicates(t, slack, testConcurrency, why)
	requireBoundedDuplicates(t, crm, testConcurrency, why)

	t.Run("same call on two replicas", func(t *testing.T) {
		a := alive()
		ids := idRange(7_100_001, 20)
		for _, id := range ids {
			var wg sync.WaitGroup
			results := make([]postResult, 2)
			start := make(chan struct{})
			for j := range results {
				wg.Go(func() {
					<-start
					results[j] = p.post(context.Background(), a[j].base, id)
				})
			}
			close(start)
			wg.Wait()
			statuses := []int{results[0].Status, results[1].Status}
			accepted, duplicate := 0, 0
			for _, r := range results {
				switch {
				case r.Status == http.StatusAccepted:
					accepted++
				case r.Status == http.StatusOK && strings.Contains(r.Body, `"duplicate":true`):
					duplicate++
				}
			}
			if accepted != 1 || duplicate != 1 {
				t.Errorf("call %d posted to two replicas at once: got statuses %v (%q, %q), want one 202 and one 200 duplicate",
					id, statuses, results[0].Body, results[1].Body)
			}
		}
		// Delivered once each, and nothing left in flight for the next subtest's fake to see.
		slackKeys, crmKeys := keysOf(ids)
		slack.waitDelivered(deliveryDeadline, slackKeys)
		crm.waitDelivered(deliveryDeadline, crmKeys)
		for _, k := range slackKeys {
			if n := slack.deliveredCount(k); n != 1 {
				t.Errorf("slack deliveries of call %s posted to two replicas: got %d, want 1", k, n)
			}
		}
	})

	t.Run("dead letter replayed on any replica", func(t *testing.T) {
		a := alive()
		const id = 7_200_001
		slack.failNext(1, modeNoService)
		requireAllAccepted(t, []postResult{p.post(context.Background(), a[0].base, id)})
		// The store is shared: any replica shows the dead letter, whichever delivered it.
		dead := waitDead(t, a[1], 1)
		if dead[0].CallID != id || dead[0].Sink != "slack" {
			t.Fatalf("dead delivery: got call %d sink %q, want call %d sink \"slack\"", dead[0].CallID, dead[0].Sink, id)
		}
		code, stdout, stderr := runCommand(t, "replay", "--dead", "--config", a[1].config)
		if code != 0 || !strings.Contains(stdout, "requeued 1 deliveries") {
			t.Fatalf("switchboard replay --dead: exit %d, stdout %q, stderr %q; want exit 0 and \"requeued 1 deliveries\"", code, stdout, stderr)
		}
		slack.waitDelivered(deliveryDeadline, []string{slackKey(id)})
	})

	for _, r := range alive() {
		r.stop()
		r.assertNoSecrets(authToken, slackSecretPath)
	}
}
