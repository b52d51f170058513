package ui

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// benchCalls and benchDays are the measure: 100,000 stored calls over 30 days.
const (
	benchCalls = 100_000
	benchDays  = 30
)

var (
	benchOnce    sync.Once
	benchConsole *Console
	benchErr     error
)

// benchEnd is the benchmark's "now": the newest call was received just before.
var benchEnd = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

// seedBench stores benchCalls calls, received evenly over benchDays, through the real Ingest (with
// their rules' deliveries), then marks 97% of the deliveries delivered and 1% dead, as a healthy relay
// leaves them. The database is built once per process.
func seedBench(b *testing.B) *Console {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "switchboard-ui-bench")
		if err != nil {
			benchErr = err
			return
		}
		path := filepath.Join(dir, "bench.db")
		cfg, err := config.Parse("bench.yaml", []byte(testConfig), func(string) (string, bool) { return "", false })
		if err != nil {
			benchErr = err
			return
		}
		rs, err := rules.Compile(cfg)
		if err != nil {
			benchErr = err
			return
		}
		s, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			benchErr = err
			return
		}
		rt := &Runtime{Config: cfg, Rules: rs}
		step := benchDays * 24 * time.Hour / benchCalls
		start := benchEnd.Add(-benchDays * 24 * time.Hour)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for i := w; i < benchCalls; i += 64 {
					status, quality := "completed", []string{"high", "medium", "low"}[rng.IntN(3)]
					if rng.IntN(5) == 0 {
						status = []string{"failed", "busy"}[rng.IntN(2)]
					}
					body := payload(int64(1_000_000+i), fmt.Sprintf("+1555%07d", rng.IntN(10_000_000)), status, quality, "I would like to hear more about the Pro plan.")
					c, err := call.Decode([]byte(body))
					if err != nil {
						errs <- err
						return
					}
					res := rs.Evaluate(c)
					sc := &store.Call{ID: c.ID, ReceivedAt: start.Add(time.Duration(i) * step), Status: c.Status, Matched: res.Matched,
						Raw: []byte(body), CustomerPhone: *c.CustomerPhone, Duration: c.Duration}
					var ds []store.NewDelivery
					for _, a := range res.Actions {
						m, _ := json.Marshal(a.Message)
						ds = append(ds, store.NewDelivery{Rule: a.Rule, Action: a.Index, Sink: a.Sink, Message: m})
					}
					if _, err := s.Ingest(context.Background(), sc, ds); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			benchErr = err
			return
		}
		if err := s.Close(); err != nil {
			benchErr = err
			return
		}
		// Settle the queue as workers would have: most delivered, some dead, the newest still pending.
		db, err := sql.Open("sqlite", path)
		if err != nil {
			benchErr = err
			return
		}
		_, err = db.Exec(`UPDATE deliveries SET state = CASE WHEN id % 100 = 0 THEN 'dead' ELSE 'delivered' END,
			due_at = NULL, attempts = 1, last_reason = CASE WHEN id % 100 = 0 THEN 'client_error' ELSE '' END,
			last_error = CASE WHEN id % 100 = 0 THEN 'HTTP 400: bad request' ELSE '' END
			WHERE received_at < ?`, benchEnd.Add(-time.Minute).UnixNano())
		db.Close()
		if err != nil {
			benchErr = err
			return
		}
		s, err = sqlite.Open(path, sqlite.Options{})
		if err != nil {
			benchErr = err
			return
		}
		benchConsole = New(Options{Store: s, Runtime: func() *Runtime { return rt }, Now: func() time.Time { return benchEnd }})
	})
	if benchErr != nil {
		b.Fatalf("seed: %v", benchErr)
	}
	return benchConsole
}

// BenchmarkPages renders each page with 100,000 stored calls over 30 days (SQLite), server side.
func BenchmarkPages(b *testing.B) {
	c := seedBench(b)
	pages := []struct{ name, path string }{
		{"overview", "/ui/"},
		{"calls", "/ui/calls"},
		{"calls_page_100", "/ui/calls?before=" + cursor(benchEnd.Add(-10*24*time.Hour), 0)},
		{"calls_phone", "/ui/calls?q=4567"},
		{"calls_rule", "/ui/calls?rule=failed-calls"},
		{"calls_unmatched", "/ui/calls?matched=no"},
		{"calls_status_day", "/ui/calls?status=busy&from=2026-03-20T00:00&to=2026-03-21T00:00"},
		{"call", "/ui/calls/1050000"},
		{"deliveries", "/ui/deliveries"},
		{"deliveries_dead_crm", "/ui/deliveries?state=dead&sink=crm"},
		{"retry_confirm", "/ui/deliveries/retry?sink=crm"},
		{"sinks", "/ui/sinks"},
		{"rules", "/ui/rules"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				rec := httptest.NewRecorder()
				c.ServeHTTP(rec, httptest.NewRequest("GET", p.path, nil))
				if rec.Code != 200 {
					b.Fatalf("GET %s = %d", p.path, rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
