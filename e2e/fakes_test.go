package e2e

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mode is how a fake receiver answers, as the real service does in that situation.
type mode int32

const (
	// modeOK accepts: Slack answers 200 "ok", the CRM 200 with a small JSON body.
	modeOK mode = iota
	// modeUnavailable answers 503, as during an outage.
	modeUnavailable
	// modeRateLimited answers 429 with Retry-After (Slack: about one message per second per webhook).
	modeRateLimited
	// modeNoService answers 404 "no_service": the Slack webhook was revoked or mistyped.
	modeNoService
	// modeArchived answers 410 "channel_is_archived".
	modeArchived
	// modeBadRequest answers 400, as a CRM that rejects the lead it is sent.
	modeBadRequest
)

// slackCallID finds the call id in the text the tests' rules send to Slack ("call 123 ...").
var slackCallID = regexp.MustCompile(`call (\d+)`)

// receiver is a fake Slack incoming webhook or CRM webhook on loopback. It answers by its current mode,
// records every request by delivery key (the Idempotency-Key for the CRM, "<call id>" parsed from the
// text for Slack), and wakes waiters on every request, so tests wait for counts instead of sleeping.
type receiver struct {
	t    *testing.T
	kind string // "slack" or "crm"
	srv  *httptest.Server
	mode atomic.Int32
	// transient, while positive, is how many more requests get transientMode before the mode applies.
	transient     atomic.Int64
	transientMode atomic.Int32
	// retryAfter is the Retry-After value of a 429, in seconds.
	retryAfter atomic.Int64
	// failFirstPct, while positive, is the percentage of keys whose first request answers 503 (the
	// choice depends only on the key, so a run is repeatable); later requests get the current mode.
	failFirstPct atomic.Int64

	mu        sync.Mutex
	requests  int
	arrivals  map[string][]time.Time // every request by key, in arrival order
	delivered map[string]int         // requests answered 2xx by key
	texts     map[string][]string    // Slack: the text of every request by key
	noKey     int                    // requests whose key could not be found
	changed   chan struct{}          // closed and replaced after every request
}

// newSlack starts a fake Slack incoming webhook; its URL ends with a secret path like Slack's.
func newSlack(t *testing.T) *receiver { return newReceiver(t, "slack") }

// newCRM starts a fake CRM webhook that reads the Idempotency-Key of every request.
func newCRM(t *testing.T) *receiver { return newReceiver(t, "crm") }

func newReceiver(t *testing.T, kind string) *receiver {
	r := &receiver{
		t: t, kind: kind, arrivals: map[string][]time.Time{}, delivered: map[string]int{},
		texts: map[string][]string{}, changed: make(chan struct{}),
	}
	r.retryAfter.Store(1)
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// url is the address to configure: a Slack-like secret path for Slack, a plain path for the CRM.
func (r *receiver) url() string {
	if r.kind == "slack" {
		return r.srv.URL + slackSecretPath
	}
	return r.srv.URL + "/hooks/calls"
}

// slackSecretPath is the secret part of the fake Slack webhook URL; it must never be logged.
const slackSecretPath = "/services/T0E2E/B0E2E/e2eSecretWebhookToken"

// setMode makes every following request answer as m.
func (r *receiver) setMode(m mode) { r.mode.Store(int32(m)) }

// failNext makes the next n requests answer as m; then the current mode applies again.
func (r *receiver) failNext(n int, m mode) {
	r.transientMode.Store(int32(m))
	r.transient.Store(int64(n))
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	key := r.key(req, body)
	m := mode(r.mode.Load())
	if r.transient.Add(-1) >= 0 {
		m = mode(r.transientMode.Load())
	}
	if pct := r.failFirstPct.Load(); pct > 0 && key != "" && r.firstRequest(key) && keyPercentile(key) < pct {
		m = modeUnavailable
	}
	status := r.answer(w, m)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if key == "" {
		r.noKey++
		var p struct{ Text string }
		if r.kind == "slack" && json.Unmarshal(body, &p) == nil {
			r.texts[""] = append(r.texts[""], p.Text) // a message about no call (a notification)
		}
	} else {
		r.arrivals[key] = append(r.arrivals[key], now)
		if status/100 == 2 {
			r.delivered[key]++
		}
		if r.kind == "slack" {
			var p struct{ Text string }
			_ = json.Unmarshal(body, &p) // a body that is not JSON has no key and never gets here
			r.texts[key] = append(r.texts[key], p.Text)
		}
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// firstRequest reports whether no request for key has been recorded yet.
func (r *receiver) firstRequest(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrivals[key]) == 0
}

// keyPercentile maps key to 0-99 by an FNV-1a hash: a fixed, evenly spread choice per key.
func keyPercentile(key string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int64(h.Sum32() % 100)
}

// key returns the delivery key of a request, or "" when it has none.
func (r *receiver) key(req *http.Request, body []byte) string {
	if r.kind == "crm" {
		return req.Header.Get("Idempotency-Key")
	}
	var p struct{ Text string }
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	m := slackCallID.FindStringSubmatch(p.Text)
	if m == nil {
		return ""
	}
	return m[1]
}

// answer writes the response for m, as Slack or a CRM would, and returns its status.
func (r *receiver) answer(w http.ResponseWriter, m mode) int {
	text := func(status int, body string) int {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
		return status
	}
	switch m {
	case modeUnavailable:
		if r.kind == "slack" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "<html><body><h1>503 Service Unavailable</h1></body></html>")
			return http.StatusServiceUnavailable
		}
		return text(http.StatusServiceUnavailable, "upstream unavailable")
	case modeRateLimited:
		w.Header().Set("Retry-After", strconv.FormatInt(r.retryAfter.Load(), 10))
		return text(http.StatusTooManyRequests, "rate_limited")
	case modeNoService:
		return text(http.StatusNotFound, "no_service")
	case modeArchived:
		return text(http.StatusGone, "channel_is_archived")
	case modeBadRequest:
		return text(http.StatusBadRequest, `{"error":"invalid lead"}`)
	}
	if r.kind == "slack" {
		return text(http.StatusOK, "ok")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"received":true}`)
	return http.StatusOK
}

// stats is a consistent view of what a receiver has seen.
type stats struct {
	Requests int
	// Keys is how many distinct keys were delivered (answered 2xx at least once).
	Keys int
	// Deliveries is how many requests were answered 2xx; Deliveries-Keys are duplicates.
	Deliveries int
	NoKey      int
}

// Duplicates is how many 2xx deliveries repeated a key already delivered.
func (s stats) Duplicates() int { return s.Deliveries - s.Keys }

func (r *receiver) statsLocked() stats {
	s := stats{Requests: r.requests, Keys: len(r.delivered), NoKey: r.noKey}
	for _, n := range r.delivered {
		s.Deliveries += n
	}
	return s
}

// stats returns the counts so far.
func (r *receiver) stats() stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statsLocked()
}

// deliveredCount returns how many times key was answered 2xx.
func (r *receiver) deliveredCount(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delivered[key]
}

// arrivalsOf returns the arrival times of every request for key.
func (r *receiver) arrivalsOf(key string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.arrivals[key]...)
}

// textsOf returns the Slack texts received for key.
func (r *receiver) textsOf(key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.texts[key]...)
}

// missing returns the keys of want that were never delivered.
func (r *receiver) missing(want []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, k := range want {
		if r.delivered[k] == 0 {
			out = append(out, k)
		}
	}
	return out
}

// waitFor waits until cond holds for the receiver's state, woken by every request, and fails the
// test with what describes the wait if deadline passes first.
func (r *receiver) waitFor(deadline time.Duration, what string, cond func(*receiver) bool) {
	r.t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok := cond(r)
		changed := r.changed
		s := r.statsLocked()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			r.t.Fatalf("fake %s: %s: not reached within %s (requests %d, delivered keys %d, deliveries %d)",
				r.kind, what, deadline, s.Requests, s.Keys, s.Deliveries)
		}
	}
}

// waitRequests waits until at least n requests arrived.
func (r *receiver) waitRequests(deadline time.Duration, n int) {
	r.t.Helper()
	r.waitFor(deadline, "wait for "+strconv.Itoa(n)+" requests", func(r *receiver) bool { return r.requests >= n })
}

// waitDelivered waits until every key of want was delivered at least once.
func (r *receiver) waitDelivered(deadline time.Duration, want []string) {
	r.t.Helper()
	r.waitFor(deadline, "wait for "+strconv.Itoa(len(want))+" keys delivered", func(r *receiver) bool {
		if len(r.delivered) < len(want) {
			return false // cheap filter: the full check below is linear
		}
		for _, k := range want {
			if r.delivered[k] == 0 {
				return false
			}
		}
		return true
	})
}
