package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/internal/payloadgen"
)

// fakeRelay answers like Switchboard's ingest endpoint: 401 without the token (when it has one), 400 for a body call.Decode
// refuses, 200 for a repeated id, 202 otherwise, and 503 for every id divisible by failEvery when it is set.
type fakeRelay struct {
	token     string
	failEvery int64

	mu   sync.Mutex
	seen map[int64]bool
}

func (f *fakeRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, `{"error":"read"}`, http.StatusBadRequest)
		return
	}
	c, err := call.Decode(body)
	if err != nil {
		http.Error(w, `{"error":"invalid"}`, http.StatusBadRequest)
		return
	}
	if f.failEvery > 0 && c.ID%f.failEvery == 0 {
		http.Error(w, `{"error":"storage"}`, http.StatusServiceUnavailable)
		return
	}
	f.mu.Lock()
	dup := f.seen[c.ID]
	f.seen[c.ID] = true
	f.mu.Unlock()
	if dup {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (f *fakeRelay) ids() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for id := range f.seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func TestPost(t *testing.T) {
	tests := []struct {
		name       string
		relay      *fakeRelay
		opts       postOptions
		wantStatus map[string]int
		wantOK     bool
	}{
		{
			name:       "every call acknowledged",
			relay:      &fakeRelay{token: "t0k"},
			opts:       postOptions{token: "t0k", concurrency: 8, count: 300, startID: 1000},
			wantStatus: map[string]int{"202": 300},
			wantOK:     true,
		},
		{
			name:       "paced, one worker",
			relay:      &fakeRelay{token: "t0k"},
			opts:       postOptions{token: "t0k", concurrency: 1, count: 20, startID: 1, rate: 2000},
			wantStatus: map[string]int{"202": 20},
			wantOK:     true,
		},
		{
			name:       "some refused",
			relay:      &fakeRelay{token: "t0k", failEvery: 10},
			opts:       postOptions{token: "t0k", concurrency: 4, count: 100, startID: 1},
			wantStatus: map[string]int{"202": 90, "503": 10},
		},
		{
			name:       "wrong token",
			relay:      &fakeRelay{token: "right"},
			opts:       postOptions{token: "wrong", concurrency: 2, count: 5, startID: 1},
			wantStatus: map[string]int{"401": 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.relay.seen = map[int64]bool{}
			srv := httptest.NewServer(tt.relay)
			defer srv.Close()
			o := tt.opts
			o.url, o.seed, o.timeout = srv.URL+"/webhooks/intellixent", 1, 10*time.Second
			o.acked = filepath.Join(t.TempDir(), "acked.txt")

			r, err := runPost(context.Background(), o)
			if err != nil {
				t.Fatalf("runPost: %v", err)
			}
			if r.Requests != o.count || !equalCounts(r.Status, tt.wantStatus) || r.Errors != 0 {
				t.Errorf("got %d requests, status %v, %d errors; want %d, %v, 0",
					r.Requests, r.Status, r.Errors, o.count, tt.wantStatus)
			}
			if r.ok() != tt.wantOK {
				t.Errorf("ok: got %v, want %v", r.ok(), tt.wantOK)
			}
			// The acked file lists exactly the calls the relay accepted.
			acked := readIDs(t, o.acked)
			if want := tt.relay.ids(); !slices.Equal(acked, want) {
				t.Errorf("acked file: got %d ids %v…, want the %d the relay accepted %v…",
					len(acked), head(acked), len(want), head(want))
			}
			if r.Acked != len(acked) {
				t.Errorf("report acked: got %d, want %d", r.Acked, len(acked))
			}
			if r.Latency.Max < r.Latency.P99 || r.Latency.P99 < r.Latency.P50 {
				t.Errorf("latencies out of order: %+v", r.Latency)
			}
		})
	}
}

// TestPostDuration checks that -d alone bounds a run and that in-flight requests are completed.
func TestPostDuration(t *testing.T) {
	relay := &fakeRelay{seen: map[int64]bool{}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	o := postOptions{url: srv.URL, concurrency: 2, duration: 100 * time.Millisecond, rate: 200, startID: 1,
		timeout: 10 * time.Second}
	r, err := runPost(context.Background(), o)
	if err != nil {
		t.Fatalf("runPost: %v", err)
	}
	if r.Requests == 0 || !r.ok() || r.Requests != len(relay.ids()) {
		t.Errorf("got %d requests, %d acked, relay saw %d; want some, all acked, all seen",
			r.Requests, r.Acked, len(relay.ids()))
	}
}

// TestPostNeverPrintsToken checks the report of a run against a closed port with the token in the query.
func TestPostNeverPrintsToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const secret = "s3cret-token"
	o := postOptions{url: "http://" + addr + "/webhooks/intellixent?token=" + secret, token: secret,
		concurrency: 2, count: 4, startID: 1, timeout: 10 * time.Second}
	r, err := runPost(context.Background(), o)
	if err != nil {
		t.Fatalf("runPost: %v", err)
	}
	if r.Errors != 4 || r.ok() {
		t.Errorf("got %d errors, ok %v; want 4 errors and not ok", r.Errors, r.ok())
	}
	for _, asJSON := range []bool{false, true} {
		var out bytes.Buffer
		if err := r.print(&out, asJSON); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), secret) {
			t.Errorf("json=%v: the report shows the token:\n%s", asJSON, out.String())
		}
		if !strings.Contains(out.String(), "connection refused") {
			t.Errorf("json=%v: got report\n%s\nwant the error kind \"connection refused\"", asJSON, out.String())
		}
	}
}

func TestParsePost(t *testing.T) {
	t.Setenv("SBLOAD_TOKEN", "from-env")
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(postOptions) bool
	}{
		{name: "defaults", check: func(o postOptions) bool {
			return o.count == defaultCount && o.concurrency == 32 && o.token == "from-env" && o.startID > 0 &&
				strings.HasPrefix(o.url, "http://127.0.0.1:8080/")
		}},
		{name: "duration alone is unbounded in count", args: []string{"-d", "30s"},
			check: func(o postOptions) bool { return o.count == 0 && o.duration == 30*time.Second }},
		{name: "rate N/s", args: []string{"-rate", "250/s", "-start-id", "7"},
			check: func(o postOptions) bool { return o.rate == 250 && o.startID == 7 }},
		{name: "explicit token wins", args: []string{"-token", "flag"},
			check: func(o postOptions) bool { return o.token == "flag" }},
		{name: "localhost", args: []string{"-url", "http://localhost:1/x"}, check: func(postOptions) bool { return true }},
		{name: "IPv6 loopback", args: []string{"-url", "http://[::1]:1/x"}, check: func(postOptions) bool { return true }},
		{name: "remote allowed", args: []string{"-url", "https://relay.example.com/x", "-allow-remote"},
			check: func(postOptions) bool { return true }},
		{name: "remote refused", args: []string{"-url", "https://relay.example.com/x"}, wantErr: "not loopback"},
		{name: "not a URL", args: []string{"-url", "127.0.0.1:8080/x"}, wantErr: "absolute http"},
		{name: "bad rate", args: []string{"-rate", "fast"}, wantErr: "requests per second"},
		{name: "no workers", args: []string{"-c", "0"}, wantErr: "at least 1"},
		{name: "negative count", args: []string{"-n", "-1"}, wantErr: "positive"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
		{name: "relay pid", args: []string{"-relay-pid", strconv.Itoa(os.Getpid())},
			check: func(o postOptions) bool { return o.relayPID == os.Getpid() }},
		{name: "negative relay pid", args: []string{"-relay-pid", "-2"}, wantErr: "-relay-pid: want a process id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parsePost(tt.args, io.Discard)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("got error %v, want none", err)
			case !tt.check(o):
				t.Errorf("got options %+v, not what the row expects", o)
			}
		})
	}
}

func equalCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func readIDs(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("acked file line %q: %v", sc.Text(), err)
		}
		ids = append(ids, id)
	}
	return ids
}

func head(ids []int64) []int64 { return ids[:min(len(ids), 5)] }

// TestErrorKinds checks how transport failures are named in the report.
func TestErrorKinds(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that a client hanging up cancels r.Context and a close is clean
		switch r.URL.Path {
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "/close":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handlers
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		path    string
		timeout time.Duration
		want    string
	}{
		{name: "timeout", ctx: context.Background(), path: "/hang", timeout: 50 * time.Millisecond, want: "timeout"},
		{name: "closed", ctx: context.Background(), path: "/close", timeout: 10 * time.Second, want: "connection closed"},
		{name: "interrupted", ctx: cancelled, path: "/hang", timeout: 10 * time.Second, want: "interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Timeout: tt.timeout}
			o := postOptions{url: srv.URL + tt.path}
			out := postOne(tt.ctx, client, o, payloadgen.New(1, time.Now), 1)
			if out.status != 0 || out.errKind != tt.want {
				t.Errorf("got status %d, error kind %q; want 0, %q", out.status, out.errKind, tt.want)
			}
		})
	}
}
