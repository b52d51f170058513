package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/store"
)

// errDiskFull is what brokenStore answers while broken, as SQLite does on ENOSPC.
var errDiskFull = errors.New("database or disk is full (13)")

// brokenStore is a store that cannot commit while broken is set: Probe, Ingest and Finish fail. It
// is reachable throughout (Ping succeeds), as a store on a full disk is. Its other methods are not
// used by these tests.
type brokenStore struct {
	store.Store
	broken atomic.Bool
	probes atomic.Int64
}

func (b *brokenStore) Ping(context.Context) error { return nil }

func (b *brokenStore) Probe(context.Context) error {
	b.probes.Add(1)
	if b.broken.Load() {
		return errDiskFull
	}
	return nil
}

func (b *brokenStore) Ingest(context.Context, *store.Call, []store.NewDelivery) ([]int64, error) {
	if b.broken.Load() {
		return nil, fmt.Errorf("commit ingest batch: %w", errDiskFull)
	}
	return []int64{1}, nil
}

func (b *brokenStore) Finish(context.Context, int64, string, store.Outcome) error {
	if b.broken.Load() {
		return fmt.Errorf("commit finish batch: %w", errDiskFull)
	}
	return nil
}

// readyRouter is a Router over bs with readiness probing every interval.
func readyRouter(t *testing.T, bs *brokenStore, interval time.Duration) (*Router, *Readiness) {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(strings.Replace(testConfig, "admin_token: ADMIN", "", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt := &Runtime{Config: cfg, Rules: rs}
	rd := NewReadiness(bs.Probe, interval, nil)
	return New(Options{Runtime: func() *Runtime { return rt }, Store: rd.Watch(bs), Readiness: rd}), rd
}

func readyz(r *Router) int {
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code
}

// TestReadinessFollowsCommits: /readyz answers 503 as soon as a commit fails (a webhook refused for
// storage, or found by the probe with no traffic at all), and 200 again once a probe commits, without
// any request in between. Time is synctest's, so the probe ticker runs at once.
func TestReadinessFollowsCommits(t *testing.T) {
	const interval = 5 * time.Second
	tests := []struct {
		name string
		fail func(t *testing.T, r *Router, bs *brokenStore)
	}{
		{name: "webhook refused for storage", fail: func(t *testing.T, r *Router, bs *brokenStore) {
			bs.broken.Store(true)
			req := httptest.NewRequest(http.MethodPost, "/hook?token="+ingestToken, strings.NewReader(`{"id": 7, "status": "completed", "lead": {"bonus": 1}}`))
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("webhook on a full disk: status %d, want 503", rec.Code)
			}
		}},
		{name: "delivery outcome not recorded", fail: func(t *testing.T, r *Router, bs *brokenStore) {
			bs.broken.Store(true)
			if err := r.opts.Store.Finish(context.Background(), 1, "w", store.Outcome{State: store.Delivered}); err == nil {
				t.Fatal("Finish on a full disk succeeded")
			}
		}},
		{name: "no traffic: the probe finds it", fail: func(t *testing.T, r *Router, bs *brokenStore) {
			bs.broken.Store(true)
			time.Sleep(interval)
			synctest.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bs := &brokenStore{}
				r, rd := readyRouter(t, bs, interval)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go rd.Run(ctx)
				if got := readyz(r); got != http.StatusOK {
					t.Fatalf("readyz at start = %d, want 200", got)
				}
				tt.fail(t, r, bs)
				if got := readyz(r); got != http.StatusServiceUnavailable {
					t.Fatalf("readyz while commits fail = %d, want 503", got)
				}
				// Still failing at the next probe: still not ready.
				time.Sleep(interval)
				synctest.Wait()
				if got := readyz(r); got != http.StatusServiceUnavailable {
					t.Fatalf("readyz after a failed probe = %d, want 503", got)
				}
				bs.broken.Store(false)
				before := bs.probes.Load()
				time.Sleep(interval)
				synctest.Wait()
				if bs.probes.Load() == before {
					t.Fatal("no probe ran within one interval")
				}
				if got := readyz(r); got != http.StatusOK {
					t.Fatalf("readyz after the store healed and a probe ran = %d, want 200", got)
				}
			})
		})
	}
}

func TestStorageFailure(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "disk full", err: fmt.Errorf("commit: %w", errDiskFull), want: true},
		{name: "commit too slow", err: context.DeadlineExceeded, want: true},
		{name: "duplicate", err: fmt.Errorf("ingest: %w", store.ErrDuplicate), want: false},
		{name: "lease lost", err: store.ErrLeaseLost, want: false},
		{name: "not found", err: store.ErrNotFound, want: false},
		{name: "closed at shutdown", err: store.ErrClosed, want: false},
		{name: "canceled", err: context.Canceled, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StorageFailure(tt.err); got != tt.want {
				t.Errorf("StorageFailure(%v) = %v, want %v", tt.err, got, tt.want)
			}
			rd := NewReadiness(func(context.Context) error { return nil }, time.Second, nil)
			rd.Fail(tt.err)
			if got := rd.Err() != nil; got != tt.want {
				t.Errorf("after Fail(%v): not ready = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
