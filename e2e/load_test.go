package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/internal/payloadgen"
)

// payloadGen makes realistic Intellixent post-call webhooks with internal/payloadgen, the generator
// cmd/sbload uses (the shape of docs/intellixent-webhook.md), for posters on several goroutines. Draws
// depend only on the seed: every call finishes at the same fixed time.
type payloadGen struct {
	mu  sync.Mutex
	gen *payloadgen.Generator
}

func newPayloadGen(seed uint64) *payloadGen {
	finished := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	return &payloadGen{gen: payloadgen.New(seed, func() time.Time { return finished })}
}

// body returns the JSON body of call id.
func (g *payloadGen) body(id int64) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gen.Body(id)
}

// postResult is what one webhook post got.
type postResult struct {
	ID     int64
	Status int   // 0 when no answer came
	Err    error // set when no answer came (connection refused or reset)
	Body   string
}

// acked reports whether the relay acknowledged the call: 202 accepted or 200 duplicate.
func (p postResult) acked() bool { return p.Status == http.StatusAccepted || p.Status == http.StatusOK }

// poster posts webhooks to relays as Intellixent would, with the bearer token.
type poster struct {
	client *http.Client
	gen    *payloadGen
}

func newPoster(seed uint64) *poster {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &poster{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, gen: newPayloadGen(seed)}
}

// post sends call id to the relay at base once.
func (p *poster) post(ctx context.Context, base string, id int64) postResult {
	body, err := p.gen.body(id)
	if err != nil {
		return postResult{ID: id, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/intellixent", bytes.NewReader(body))
	if err != nil {
		return postResult{ID: id, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+authToken)
	resp, err := p.client.Do(req)
	if err != nil {
		return postResult{ID: id, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		// The status line arrived but the body was cut: the ack is not complete, treat it as no answer.
		return postResult{ID: id, Err: fmt.Errorf("read answer: %w", err)}
	}
	return postResult{ID: id, Status: resp.StatusCode, Body: string(b)}
}

// postAll posts ids at the given concurrency, each to target(id), calling onResult (from the posting
// goroutines) after each answer. It stops taking new ids when ctx is done and returns the results of
// the ids it posted, in no particular order.
func (p *poster) postAll(ctx context.Context, ids []int64, concurrency int, target func(int64) string, onResult func(postResult)) []postResult {
	next := make(chan int64)
	var mu sync.Mutex
	var out []postResult
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for id := range next {
				// The request does not use ctx: stopping means taking no new ids, not abandoning one.
				res := p.post(context.WithoutCancel(ctx), target(id), id)
				if onResult != nil {
					onResult(res)
				}
				mu.Lock()
				out = append(out, res)
				mu.Unlock()
			}
		})
	}
feed:
	for _, id := range ids {
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return out
}

// idRange returns n call ids starting at first.
func idRange(first int64, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids
}

// ledger sorts post results into acknowledged calls and calls that got no answer.
type ledger struct {
	acked      map[int64]bool
	unanswered map[int64]bool
	posted     map[int64]bool
}

func newLedger() *ledger {
	return &ledger{acked: map[int64]bool{}, unanswered: map[int64]bool{}, posted: map[int64]bool{}}
}

// add records results; a call acknowledged once stays acknowledged. Any answer other than 202, 200
// or no answer at all fails the test: the relay must never reject a valid webhook.
func (l *ledger) add(t *testing.T, results []postResult) {
	t.Helper()
	for _, r := range results {
		l.posted[r.ID] = true
		switch {
		case r.acked():
			l.acked[r.ID] = true
			delete(l.unanswered, r.ID)
		case r.Err != nil:
			if !l.acked[r.ID] {
				l.unanswered[r.ID] = true
			}
		default:
			t.Errorf("post call %d: status %d %s, want 202 or 200 (or no answer while the relay is down)", r.ID, r.Status, r.Body)
		}
	}
}

// ackedIDs returns the acknowledged ids.
func (l *ledger) ackedIDs() []int64 { return setIDs(l.acked) }

// unansweredIDs returns the ids that got no answer and were never acknowledged.
func (l *ledger) unansweredIDs() []int64 { return setIDs(l.unanswered) }

func setIDs(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	return out
}

// notPosted returns the ids of all that were never posted.
func (l *ledger) notPosted(all []int64) []int64 {
	var out []int64
	for _, id := range all {
		if !l.posted[id] {
			out = append(out, id)
		}
	}
	return out
}

// requireAllAccepted fails unless every result is a 202.
func requireAllAccepted(t *testing.T, results []postResult) {
	t.Helper()
	for _, r := range results {
		if r.Status != http.StatusAccepted {
			t.Errorf("post call %d: got status %d %s (err %v), want 202", r.ID, r.Status, r.Body, r.Err)
		}
	}
}
