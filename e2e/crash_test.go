package e2e

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadDeadline bounds waits for the deliveries of a few thousand calls; it is far above what they need.
const loadDeadline = 90 * time.Second

// postConcurrency is how many webhooks the load tests post at once.
const postConcurrency = 32

// testSeed returns the seed of a test's random choices, from SWITCHBOARD_E2E_SEED when set, and logs
// it so a failing run can be repeated.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SWITCHBOARD_E2E_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SWITCHBOARD_E2E_SEED=%q: must be an unsigned integer", s)
		}
		seed = v
	}
	t.Logf("seed %d (repeat with SWITCHBOARD_E2E_SEED=%d)", seed, seed)
	return seed
}

// loadRun posts ids at postConcurrency and, once `after` calls were acknowledged, calls interrupt
// (which kills or stops the relay) and stops taking new ids. It returns every post's result.
func loadRun(t *testing.T, p *poster, ids []int64, target func(int64) string, after int, interrupt func()) []postResult {
	t.Helper()
	ctx, stopPosting := context.WithCancel(context.Background())
	defer stopPosting()
	var acked atomic.Int64
	reached := make(chan struct{})
	var once sync.Once
	done := make(chan []postResult, 1)
	go func() {
		done <- p.postAll(ctx, ids, postConcurrency, target, func(r postResult) {
			if r.acked() && acked.Add(1) == int64(after) {
				once.Do(func() { close(reached) })
			}
		})
	}()
	select {
	case <-reached:
	case res := <-done:
		t.Fatalf("all %d posts finished before %d were acknowledged: %d answered", len(ids), after, len(res))
	}
	interrupt()
	stopPosting()
	return <-done
}

// requireBoundedDuplicates fails when a receiver got more duplicate deliveries than bound.
func requireBoundedDuplicates(t *testing.T, rc *receiver, bound int, why string) {
	t.Helper()
	s := rc.stats()
	t.Logf("fake %s: %d requests, %d distinct deliveries, %d duplicates (bound %d: %s)", rc.kind, s.Requests, s.Keys, s.Duplicates(), bound, why)
	if s.Duplicates() > bound {
		t.Errorf("fake %s: got %d duplicate deliveries, want at most %d (%s)", rc.kind, s.Duplicates(), bound, why)
	}
	if s.NoKey != 0 {
		t.Errorf("fake %s: got %d requests without a delivery key, want 0", rc.kind, s.NoKey)
	}
}

// TestCrashLosesNoAcknowledgedCall posts a few thousand webhooks at concurrency 32 and SIGKILLs the
// relay at a random moment (seeded, logged) after some hundreds were acknowledged. It restarts the
// relay on the same SQLite file and posts the calls not yet posted, and again the calls whose post got
// no answer (the kill reset their connection: each may or may not have been stored, so the relay
// answers 202 or 200 duplicate, as for a sender that retries). Then:
//
//   - zero lost: every acknowledged call reaches both fake sinks at least once;
//   - duplicates are bounded per sink by defaults.concurrency: a delivery is sent twice only if the
//     kill came after the receiver got it and before its outcome was committed, and a worker has at
//     most `concurrency` deliveries claimed at once (a claim is counted until Finish returns). The
//     restart makes exactly those in-flight deliveries due again.
func TestCrashLosesNoAcknowledgedCall(t *testing.T) {
	const total = 2000
	seed := testSeed(t)
	killAfter := 300 + rand.New(rand.NewPCG(seed, 1)).IntN(500)
	t.Logf("SIGKILL after %d acknowledged calls", killAfter)

	s := newSQLiteSetup(t)
	r1 := s.start(t, "relay-1")
	p := newPoster(seed)
	ids := idRange(4_000_001, total)
	l := newLedger()
	l.add(t, loadRun(t, p, ids, func(int64) string { return r1.base }, killAfter, r1.kill))
	beforeKill := len(l.acked)
	t.Logf("before the kill: %d acknowledged, %d without answer, %d not posted", beforeKill, len(l.unanswered), len(l.notPosted(ids)))

	r2 := s.start(t, "relay-2")
	unanswered := l.unansweredIDs()
	retried := p.postAll(context.Background(), unanswered, postConcurrency, func(int64) string { return r2.base }, nil)
	stored := 0
	for _, res := range retried {
		if res.Status == http.StatusOK {
			stored++
		}
	}
	t.Logf("of %d calls without answer, %d had been stored (200 duplicate on retry)", len(unanswered), stored)
	l.add(t, retried)
	l.add(t, p.postAll(context.Background(), l.notPosted(ids), postConcurrency, func(int64) string { return r2.base }, nil))
	if n := len(l.unansweredIDs()); n != 0 {
		t.Fatalf("after the restart %d posts still got no answer, want 0", n)
	}
	if len(l.acked) != total {
		t.Fatalf("acknowledged calls: got %d, want %d", len(l.acked), total)
	}

	slackKeys, crmKeys := keysOf(l.ackedIDs())
	s.slack.waitDelivered(loadDeadline, slackKeys)
	s.crm.waitDelivered(loadDeadline, crmKeys)
	r2.waitQueueEmpty()
	if lost := s.slack.missing(slackKeys); len(lost) != 0 {
		t.Errorf("slack: %d acknowledged calls lost, want 0 (first %s)", len(lost), lost[0])
	}
	why := "deliveries in flight at the kill: defaults.concurrency " + strconv.Itoa(testConcurrency) + " per sink"
	requireBoundedDuplicates(t, s.slack, testConcurrency, why)
	requireBoundedDuplicates(t, s.crm, testConcurrency, why)
	if dead := r2.deliveries("dead"); len(dead) != 0 {
		t.Errorf("dead deliveries: got %d (first %+v), want 0", len(dead), dead[0])
	}
	r2.stop()
	r1.assertNoSecrets(s.secrets()...)
	r2.assertNoSecrets(s.secrets()...)
}

// TestSIGTERMUnderLoad sends SIGTERM while webhooks are being posted at concurrency 32. The CRM is
// down meanwhile, so its deliveries are still queued at shutdown. The relay must finish the requests
// it took, exit 0, and have stored every call it acknowledged; after a restart (the CRM back up)
// every acknowledged call is delivered to both sinks.
func TestSIGTERMUnderLoad(t *testing.T) {
	const total = 1200
	seed := testSeed(t)
	stopAfter := 200 + rand.New(rand.NewPCG(seed, 2)).IntN(400)
	t.Logf("SIGTERM after %d acknowledged calls", stopAfter)

	s := newSQLiteSetup(t)
	s.crm.setMode(modeUnavailable)
	r1 := s.start(t, "relay-1")
	p := newPoster(seed)
	ids := idRange(5_000_001, total)
	l := newLedger()
	// Posts that get no answer are those that raced the closing listener or an idle keep-alive
	// connection being closed (EOF): they were not acknowledged, so nothing is owed for them.
	l.add(t, loadRun(t, p, ids, func(int64) string { return r1.base }, stopAfter, r1.terminate))
	if code := r1.wait(); code != 0 {
		t.Fatalf("relay-1 after SIGTERM under load: exit status %d, want 0 (%v)", code, r1.err)
	}
	r1.waitLog("switchboard stopped", 1)
	acked := l.ackedIDs()
	t.Logf("before shutdown: %d acknowledged, %d without answer, %d not posted", len(acked), len(l.unanswered), len(l.notPosted(ids)))

	s.crm.setMode(modeOK)
	r2 := s.start(t, "relay-2")
	for _, id := range acked {
		r2.getJSON("/api/calls/"+strconv.FormatInt(id, 10), http.StatusOK, nil)
	}
	slackKeys, crmKeys := keysOf(acked)
	s.slack.waitDelivered(loadDeadline, slackKeys)
	s.crm.waitDelivered(loadDeadline, crmKeys)
	r2.waitQueueEmpty()
	// A clean shutdown lets in-flight sends finish and records them, so nothing is sent twice.
	requireBoundedDuplicates(t, s.slack, 0, "a graceful shutdown records every finished send")
	requireBoundedDuplicates(t, s.crm, 0, "a graceful shutdown records every finished send")
	r2.stop()
	r1.assertNoSecrets(s.secrets()...)
	r2.assertNoSecrets(s.secrets()...)
}
