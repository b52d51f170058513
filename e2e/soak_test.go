//go:build soak

package e2e

import (
	"context"
	"flag"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The soak test is not part of the normal test run: build it with -tags soak.
//
//	go test -tags soak -count=1 -run TestSoak -timeout 30m ./e2e -soak.duration=5m   # the full run
//	go test -tags soak -count=1 -run TestSoak ./e2e -soak.rate=100 -soak.duration=30s -soak.kills=5  # CI
var (
	soakRate     = flag.Int("soak.rate", 300, "webhooks posted per second")
	soakDuration = flag.Duration("soak.duration", 5*time.Minute, "how long webhooks are posted")
	soakKills    = flag.Int("soak.kills", 10, "how many times serve is SIGKILLed and restarted while posting")
	soakFailPct  = flag.Int("soak.fail", 20, "percentage of deliveries whose first attempt the receivers answer 503")
	soakDrain    = flag.Duration("soak.drain", 5*time.Minute, "how long the queue may take to drain after the posting")
)

// soakWorkers bounds the posts in flight; at 300/s with acks in milliseconds a few are busy at once.
const soakWorkers = 64

// TestSoak posts -soak.rate webhooks/s for -soak.duration to one relay on SQLite while SIGKILLing and
// restarting it -soak.kills times (at seeded random moments, one in each equal slice of the duration),
// with both receivers answering 503 to the first attempt of -soak.fail percent of deliveries. Posts
// that get no answer (the relay is down or was killed mid-request) are not acknowledged and are not
// retried: nothing is owed for them. When the posting ends it waits until the queue is empty, then
// fails if any delivery of an acknowledged call never reached its receiver (by Idempotency-Key for
// the CRM, by call id for Slack) or ended dead. Duplicates are allowed by at-least-once and reported.
func TestSoak(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 13))
	s := newSQLiteSetup(t)
	s.cfg.LogLevel = "warn"
	s.cfg.write(t, s.configPath)
	s.slack.failFirstPct.Store(int64(*soakFailPct))
	s.crm.failFirstPct.Store(int64(*soakFailPct))

	var cur atomic.Pointer[relay]
	cur.Store(s.start(t, "relay-0"))
	base := cur.Load().base

	var (
		mu      sync.Mutex
		acked   = map[int64]bool{}
		noReply int
		other   = map[int]int{}
	)
	p := newPoster(seed)
	jobs := make(chan int64, *soakRate) // a second of slack: the pacer never waits on a slow ack
	var wg sync.WaitGroup
	for range soakWorkers {
		wg.Go(func() {
			for id := range jobs {
				res := p.post(context.Background(), base, id)
				mu.Lock()
				switch {
				case res.acked():
					acked[id] = true
				case res.Err != nil:
					noReply++
				default:
					other[res.Status]++
				}
				mu.Unlock()
			}
		})
	}

	// Kill moments: one random moment in each of kills equal slices of the duration.
	slice := *soakDuration / time.Duration(*soakKills+1)
	var killAt []time.Duration
	for i := range *soakKills {
		killAt = append(killAt, slice*time.Duration(i)+slice/2+time.Duration(rng.Int64N(int64(slice))))
	}
	killsDone := make(chan int)
	start := time.Now()
	go func() {
		kills := 0
		defer func() { killsDone <- kills }()
		for i, at := range killAt {
			time.Sleep(time.Until(start.Add(at))) // pacing a schedule, not synchronising
			cur.Load().kill()
			kills++
			cur.Store(s.start(t, "relay-"+strconv.Itoa(i+1)))
		}
	}()

	// Pace the posts: every 10 ms, the ids due by then.
	var posted, late int64
	id := int64(9_000_000_001)
	tick := time.NewTicker(10 * time.Millisecond)
	for now := range tick.C {
		elapsed := now.Sub(start)
		if elapsed >= *soakDuration {
			break
		}
		for due := int64(elapsed.Seconds() * float64(*soakRate)); posted < due; posted++ {
			select {
			case jobs <- id:
			default:
				late++ // every worker busy and a second queued: the relay is not keeping up
				jobs <- id
			}
			id++
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	postTime := time.Since(start)
	kills := <-killsDone
	r := cur.Load()

	mu.Lock()
	ids := setIDs(acked)
	t.Logf("posted %d in %s (%.0f/s, %d queued behind busy workers): %d acknowledged, %d without answer, other statuses %v; %d SIGKILLs",
		posted, postTime.Round(time.Millisecond), float64(posted)/postTime.Seconds(), late, len(ids), noReply, other, kills)
	for status, n := range other {
		if status != http.StatusServiceUnavailable {
			t.Errorf("%d posts answered %d: the relay must answer a valid webhook 202, 200 or (not ready) 503", n, status)
		}
	}
	mu.Unlock()

	drainStart := time.Now()
	if waitQueueEmptyWithin(t, r, *soakDrain) {
		t.Logf("queue empty %s after the posting ended", time.Since(drainStart).Round(time.Millisecond))
	}

	slackKeys, crmKeys := keysOf(ids)
	for _, rc := range []struct {
		r    *receiver
		keys []string
	}{{s.slack, slackKeys}, {s.crm, crmKeys}} {
		st := rc.r.stats()
		lost := rc.r.missing(rc.keys)
		t.Logf("fake %s: %d requests, %d acknowledged deliveries owed, %d delivered keys, %d missing, %d duplicates",
			rc.r.kind, st.Requests, len(rc.keys), st.Keys, len(lost), st.Duplicates())
		if len(lost) != 0 {
			t.Errorf("fake %s: %d deliveries of acknowledged calls missing, want 0 (first %s)", rc.r.kind, len(lost), lost[0])
		}
	}
	if dead := r.deliveries("dead"); len(dead) != 0 {
		t.Errorf("dead deliveries: got %d (first %+v), want 0", len(dead), dead[0])
	}
	if len(ids) == 0 {
		t.Errorf("no call was acknowledged")
	}
	r.stop()
}

// queued returns how many deliveries are pending and in flight over every sink of r (GET /api/sinks).
func queued(r *relay) (pending, inFlight int) {
	r.t.Helper()
	var out struct {
		Sinks []struct {
			Pending  int `json:"pending"`
			InFlight int `json:"in_flight"`
		} `json:"sinks"`
	}
	r.getJSON("/api/sinks", http.StatusOK, &out)
	for _, s := range out.Sinks {
		pending += s.Pending
		inFlight += s.InFlight
	}
	return pending, inFlight
}

// waitQueueEmptyWithin polls r until no delivery is pending or in flight, logging the counts every
// 10 s, and reports false if d passes first.
func waitQueueEmptyWithin(t *testing.T, r *relay, d time.Duration) bool {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastLog := time.Now()
	for {
		pending, inFlight := queued(r)
		if pending == 0 && inFlight == 0 {
			return true
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			t.Logf("draining: %d pending, %d in flight", pending, inFlight)
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Errorf("%s: queue not empty within %s: %d pending, %d in flight (what is still queued is counted missing below)", r.name, d, pending, inFlight)
			return false
		}
	}
}
