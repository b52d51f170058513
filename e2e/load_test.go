package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// payloadGen makes realistic Intellixent post-call webhooks (the shape of
// /work/shared/spec/intellixent-post-call-webhook.md, after cmd/sbload's generator): completed 80%,
// busy 12%, failed 8%; completed calls carry a transcript of 4-24 turns, extracted variables and a
// recording; some have a null customer_phone or a lead. Draws depend only on the seed.
type payloadGen struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newPayloadGen(seed uint64) *payloadGen {
	return &payloadGen{rng: rand.New(rand.NewPCG(seed, 0xe2e))}
}

var (
	genNames    = []string{"Ana Souza", "Ben Okafor", "Chloé Martin", "Dmitri Ivanov", "Emma O'Neil", "Farah Haddad"}
	genProducts = []string{"solar panels", "heat pump", "home insurance", "fibre broadband"}
	genBot      = []string{"Hi, this is Maya calling from Brightside Energy.", "Is now a good time to talk?", "Can I confirm your address?", "Would Tuesday at 10am work for a visit?", "Great, I have booked that for you.", "Thanks for your time, goodbye!"}
	genHuman    = []string{"Yes, go ahead.", "It's 12 Rue de la Paix.", "Tuesday works <fine> & I'm free.", "How much would it cost?", "Sure, send me the details.", "Not interested, thanks."}
	genQuality  = []string{"high", "medium", "low", "low"}
)

// body returns the JSON body of call id.
func (g *payloadGen) body(id int64) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.rng
	finished := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second)
	p := map[string]any{
		"id":                  id,
		"customer_phone":      fmt.Sprintf("+1%03d%07d", 200+r.IntN(800), r.IntN(10000000)),
		"assistant_phone":     "+15550100",
		"status":              "completed",
		"extracted_variables": map[string]any{},
		"input_variables": map[string]any{
			"customer_name":    genNames[r.IntN(len(genNames))],
			"product_interest": genProducts[r.IntN(len(genProducts))],
		},
		"transcript":           []any{},
		"formatted_transcript": "",
		"finished_at":          finished.Format("2006-01-02T15:04:05.000000Z"),
	}
	if r.IntN(100) < 3 {
		p["customer_phone"] = nil
	}
	if r.IntN(100) < 30 {
		p["lead"] = map[string]any{"campaign_id": 100 + r.IntN(900), "attempt": 1 + r.IntN(3)}
	}
	duration := r.IntN(30)
	switch n := r.IntN(100); {
	case n < 12:
		p["status"] = "busy"
	case n < 20:
		p["status"] = "failed"
	default:
		q := genQuality[r.IntN(len(genQuality))]
		p["extracted_variables"] = map[string]any{"lead_quality": q, "summary": "Customer discussed " + genProducts[r.IntN(len(genProducts))], "status": q != "low"}
		p["recording_url"] = fmt.Sprintf("https://portal.intellixent.ai/storage/recordings/call-%d.mp4", id)
		var turns []any
		var lines []string
		ts := float64(finished.Unix() - 300)
		for i := range 4 + r.IntN(21) {
			sender, prefix, pool := "bot", "AI: ", genBot
			if i%2 == 1 {
				sender, prefix, pool = "human", "Customer: ", genHuman
			}
			text := pool[r.IntN(len(pool))]
			turns = append(turns, map[string]any{"text": text, "sender": sender, "timestamp": ts})
			lines = append(lines, prefix+text)
			ts += 2 + float64(r.IntN(60))/10
		}
		p["transcript"], p["formatted_transcript"] = turns, strings.Join(lines, "\n")
		duration = 10 + len(turns)*4
	}
	p["duration"] = duration
	p["created_at"] = finished.Add(-time.Duration(duration) * time.Second).Format("2006-01-02T15:04:05.000000Z")
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("encode payload: %v", err)) // only maps of plain values: cannot fail
	}
	return b
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/intellixent", bytes.NewReader(p.gen.body(id)))
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
