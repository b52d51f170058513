package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// step is one POST to the sink, after moving the clock by wait.
type step struct {
	wait       time.Duration
	key        string // Idempotency-Key; "" sends none
	wantStatus int
	wantBody   string
}

func TestSinkCounts(t *testing.T) {
	ok := sinkOptions{status: 200, failStatus: 503}
	tests := []struct {
		name      string
		opts      sinkOptions
		steps     []step
		want      sinkStats
		wantRetry string // Retry-After of failures
	}{
		{
			name: "unique and duplicate keys",
			opts: ok,
			steps: []step{
				{key: "1-hot-leads-0", wantStatus: 200, wantBody: "ok"},
				{key: "1-hot-leads-1", wantStatus: 200, wantBody: "ok"},
				{key: "1-hot-leads-0", wantStatus: 200, wantBody: "ok"},
				{key: "2-hot-leads-0", wantStatus: 200, wantBody: "ok"},
				{key: "1-hot-leads-0", wantStatus: 200, wantBody: "ok"},
			},
			want: sinkStats{Requests: 5, Deliveries: 5, Unique: 3, Duplicates: 2,
				Keys: []string{"1-hot-leads-0", "1-hot-leads-1", "2-hot-leads-0"}},
		},
		{
			name: "without a key",
			opts: ok,
			steps: []step{
				{wantStatus: 200, wantBody: "ok"},
				{wantStatus: 200, wantBody: "ok"},
				{key: "7-r-0", wantStatus: 200, wantBody: "ok"},
			},
			want: sinkStats{Requests: 3, Deliveries: 3, Unique: 1, NoKey: 2, Keys: []string{"7-r-0"}},
		},
		{
			name: "fails for a while, then a retry is not a duplicate",
			opts: sinkOptions{status: 200, failFor: 30 * time.Second, failStatus: 503, retryAfter: 7},
			steps: []step{
				{key: "1-r-0", wantStatus: 503, wantBody: "Service Unavailable"},
				{wait: 29 * time.Second, key: "1-r-0", wantStatus: 503, wantBody: "Service Unavailable"},
				{wait: time.Second, key: "1-r-0", wantStatus: 200, wantBody: "ok"},
				{key: "1-r-0", wantStatus: 200, wantBody: "ok"},
			},
			want: sinkStats{Requests: 4, Deliveries: 2, Unique: 1, Duplicates: 1, Failed: 2,
				Keys: []string{"1-r-0"}},
			wantRetry: "7",
		},
		{
			name: "always rate limited like Slack",
			opts: sinkOptions{status: 429, failStatus: 503, retryAfter: 1},
			steps: []step{
				{key: "1-r-0", wantStatus: 429, wantBody: "rate_limited"},
				{wait: time.Hour, key: "1-r-0", wantStatus: 429, wantBody: "rate_limited"},
			},
			want:      sinkStats{Requests: 2, Failed: 2, Keys: []string{}},
			wantRetry: "1",
		},
		{
			name: "permanent failure without Retry-After",
			opts: sinkOptions{status: 404, failStatus: 503},
			steps: []step{
				{key: "1-r-0", wantStatus: 404, wantBody: "no_service"},
			},
			want: sinkStats{Requests: 1, Failed: 1, Keys: []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			srv := httptest.NewServer(newSinkServer(tt.opts, clk.now))
			defer srv.Close()
			for i, s := range tt.steps {
				clk.advance(s.wait)
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/hooks/x", strings.NewReader(`{"text":"hi"}`))
				if err != nil {
					t.Fatal(err)
				}
				if s.key != "" {
					req.Header.Set("Idempotency-Key", s.key)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != s.wantStatus || string(body) != s.wantBody {
					t.Errorf("step %d: got %d %q, want %d %q", i, resp.StatusCode, body, s.wantStatus, s.wantBody)
				}
				wantRetry := ""
				if resp.StatusCode >= 300 {
					wantRetry = tt.wantRetry
				}
				if got := resp.Header.Get("Retry-After"); got != wantRetry {
					t.Errorf("step %d: got Retry-After %q, want %q", i, got, wantRetry)
				}
			}
			got := getStats(t, srv.URL+"/stats?keys=1")
			want := tt.want
			want.Bytes = int64(len(`{"text":"hi"}`) * len(tt.steps))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stats:\n got  %s\n want %s", dump(got), dump(want))
			}
		})
	}
}

// TestSinkStatsWithoutKeys checks that keys are listed only on request, and that other methods are refused.
func TestSinkStatsWithoutKeys(t *testing.T) {
	srv := httptest.NewServer(newSinkServer(sinkOptions{status: 200}, time.Now))
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+"/", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := getStats(t, srv.URL+"/stats"); got.Keys != nil || got.Deliveries != 1 {
		t.Errorf("got %s, want 1 delivery and no keys", dump(got))
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/", nil)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: got %d, want 405", resp.StatusCode)
	}
}

// TestSinkConcurrent checks that concurrent deliveries of the same keys are counted exactly.
func TestSinkConcurrent(t *testing.T) {
	srv := httptest.NewServer(newSinkServer(sinkOptions{status: 200}, time.Now))
	defer srv.Close()
	const workers, keys = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := range keys {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("{}"))
				req.Header.Set("Idempotency-Key", "k"+strings.Repeat("x", k))
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	got := getStats(t, srv.URL+"/stats")
	want := sinkStats{Requests: workers * keys, Deliveries: workers * keys, Unique: keys,
		Duplicates: (workers - 1) * keys, Bytes: workers * keys * 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s, want %s", dump(got), dump(want))
	}
}

func getStats(t *testing.T, url string) sinkStats {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("stats Content-Type: got %q, want application/json", ct)
	}
	var st sinkStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode stats: %v", err)
	}
	return st
}

// dump shows stats as /stats does.
func dump(st sinkStats) string {
	b, err := json.Marshal(st)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
