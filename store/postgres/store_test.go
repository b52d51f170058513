package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func call(id int64, at time.Time) *store.Call {
	return &store.Call{ID: id, ReceivedAt: at, Status: "completed", Matched: []string{"hot"}, Raw: []byte(`{"id":1}`)}
}

func pending(sink string) store.NewDelivery {
	return store.NewDelivery{Rule: "hot", Action: 0, Sink: sink, Message: []byte(`{"text":"hi"}`)}
}

func TestIngestStoresCallAndDeliveries(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ds := []store.NewDelivery{
		pending("slack"),
		{Rule: "hot", Action: 1, Sink: "crm", Dead: true, Reason: "template", Error: "render body: missing key"},
		pending("email"),
	}
	ids, err := s.Ingest(ctx, call(42, t0), ds)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if len(ids) != 3 || !slices.IsSorted(ids) {
		t.Fatalf("Ingest ids = %v, want 3 ascending ids", ids)
	}
	c, err := s.GetCall(ctx, 42)
	if err != nil {
		t.Fatalf("GetCall: %v", err)
	}
	if !c.ReceivedAt.Equal(t0) || c.Status != "completed" || !slices.Equal(c.Matched, []string{"hot"}) || string(c.Raw) != `{"id":1}` {
		t.Errorf("GetCall = %+v, want the call as ingested", c)
	}
	for i, id := range ids {
		d, err := s.GetDelivery(ctx, id)
		if err != nil {
			t.Fatalf("GetDelivery(%d): %v", id, err)
		}
		wantState := store.Pending
		if ds[i].Dead {
			wantState = store.Dead
		}
		if d.CallID != 42 || d.Sink != ds[i].Sink || d.Action != ds[i].Action || d.State != wantState {
			t.Errorf("delivery %d = call %d sink %q action %d state %q, want call 42 sink %q action %d state %q",
				i, d.CallID, d.Sink, d.Action, d.State, ds[i].Sink, ds[i].Action, wantState)
		}
		if !d.QueuedAt.Equal(t0) || !d.ReceivedAt.Equal(t0) || !d.NextAttemptAt.Equal(t0) {
			t.Errorf("delivery %d times = queued %v received %v next %v, want all %v", i, d.QueuedAt, d.ReceivedAt, d.NextAttemptAt, t0)
		}
		if d.LastReason != ds[i].Reason || d.LastError != ds[i].Error {
			t.Errorf("delivery %d last = %q %q, want %q %q", i, d.LastReason, d.LastError, ds[i].Reason, ds[i].Error)
		}
	}
}

func TestIngestDuplicate(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Ingest(ctx, call(7, t0), []store.NewDelivery{pending("slack")}); err != nil {
		t.Fatalf("first Ingest: %v", err)
	}
	ids, err := s.Ingest(ctx, call(7, t0.Add(time.Minute)), []store.NewDelivery{pending("crm")})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second Ingest = %v, %v; want ErrDuplicate", ids, err)
	}
	ds, err := s.ListDeliveries(ctx, store.DeliveryFilter{CallID: 7})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	if len(ds) != 1 || ds[0].Sink != "slack" {
		t.Errorf("deliveries after duplicate = %d (first sink %q), want only the first call's slack delivery", len(ds), ds[0].Sink)
	}
}

// TestIngestBatchIsolatesBadCall sends concurrent calls of which one the database rejects (a NUL byte
// in a rule name, which comes from the config and is stored as it is): only that caller fails.
func TestIngestBatchIsolatesBadCall(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			c := call(int64(i+1), t0)
			d := pending("slack")
			if i == 5 {
				c.Status, d.Rule = "bad", "bad\x00rule"
			}
			_, err := s.Ingest(ctx, c, []store.NewDelivery{d})
			if err != nil {
				err = errors.Join(errors.New(c.Status), err)
			}
			errs <- err
		}()
	}
	failed := 0
	for range n {
		if err := <-errs; err != nil {
			failed++
			if !strings.HasPrefix(err.Error(), "bad") {
				t.Errorf("a good call failed: %v", err)
			}
		}
	}
	if failed != 1 {
		t.Errorf("failed Ingest calls = %d, want 1 (the bad one)", failed)
	}
	calls, err := s.ListCalls(ctx, store.CallFilter{})
	if err != nil {
		t.Fatalf("ListCalls: %v", err)
	}
	if len(calls) != n-1 {
		t.Errorf("stored calls = %d, want %d", len(calls), n-1)
	}
}

func TestIngestHonoursContext(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Ingest(ctx, call(1, t0), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Ingest with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestClaimFinish(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ids, err := s.Ingest(ctx, call(1, t0), []store.NewDelivery{pending("slack"), pending("slack"), pending("crm")})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}

	if got, err := s.Claim(ctx, "slack", "w1", 10, time.Minute, t0.Add(-time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("Claim before due = %d deliveries, %v; want none", len(got), err)
	}
	got, err := s.Claim(ctx, "slack", "w1", 10, time.Minute, t0)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Fatalf("Claim = %d deliveries, want the 2 slack ones in id order", len(got))
	}
	for _, d := range got {
		if d.State != store.InFlight || d.LeaseOwner != "w1" || d.Attempts != 1 || !d.LeaseExpires.Equal(t0.Add(time.Minute)) {
			t.Errorf("claimed = state %q owner %q attempts %d lease %v, want in_flight w1 1 %v",
				d.State, d.LeaseOwner, d.Attempts, d.LeaseExpires, t0.Add(time.Minute))
		}
	}
	if due, ok, err := s.NextDue(ctx, "slack"); err != nil || !ok || !due.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextDue(slack) = %v %v %v, want the lease expiry %v", due, ok, err, t0.Add(time.Minute))
	}

	retryAt := t0.Add(30 * time.Second)
	tests := []struct {
		name    string
		id      int64
		owner   string
		outcome store.Outcome
		want    error
	}{
		{name: "delivered", id: ids[0], owner: "w1", outcome: store.Outcome{State: store.Delivered,
			Attempt: store.Attempt{StartedAt: t0, Duration: 250 * time.Millisecond, Result: "success", StatusCode: 200}}},
		{name: "again after finishing", id: ids[0], owner: "w1", outcome: store.Outcome{State: store.Delivered}, want: store.ErrLeaseLost},
		{name: "wrong owner", id: ids[1], owner: "w2", outcome: store.Outcome{State: store.Delivered}, want: store.ErrLeaseLost},
		{name: "unknown delivery", id: 999999, owner: "w1", outcome: store.Outcome{State: store.Delivered}, want: store.ErrNotFound},
		{name: "retry", id: ids[1], owner: "w1", outcome: store.Outcome{State: store.Pending, NextAttemptAt: retryAt,
			Attempt: store.Attempt{StartedAt: t0, Duration: time.Second, Result: "retry", StatusCode: 503, Reason: "server_error", Error: "503 Service Unavailable"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Finish(ctx, tt.id, tt.owner, tt.outcome)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Finish = %v, want %v", err, tt.want)
			}
		})
	}

	d, err := s.GetDelivery(ctx, ids[1])
	if err != nil {
		t.Fatalf("GetDelivery: %v", err)
	}
	if d.State != store.Pending || !d.NextAttemptAt.Equal(retryAt) || d.LastStatus != 503 || d.LastReason != "server_error" || d.LeaseOwner != "" {
		t.Errorf("retried delivery = %+v, want pending at %v with last status 503", d, retryAt)
	}
	as, err := s.Attempts(ctx, ids[0])
	if err != nil {
		t.Fatalf("Attempts: %v", err)
	}
	want := store.Attempt{DeliveryID: ids[0], Number: 1, StartedAt: t0, Duration: 250 * time.Millisecond, Result: "success", StatusCode: 200}
	if len(as) != 1 || as[0] != want {
		t.Errorf("Attempts = %+v, want [%+v]", as, want)
	}
}

func TestClaimReclaimsExpiredLease(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ids, err := s.Ingest(ctx, call(1, t0), []store.NewDelivery{pending("slack")})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if got, err := s.Claim(ctx, "slack", "dead-replica", 1, time.Minute, t0); err != nil || len(got) != 1 {
		t.Fatalf("first Claim = %d, %v; want 1", len(got), err)
	}
	if got, err := s.Claim(ctx, "slack", "w2", 1, time.Minute, t0.Add(59*time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("Claim before the lease expires = %d, %v; want none", len(got), err)
	}
	got, err := s.Claim(ctx, "slack", "w2", 1, time.Minute, t0.Add(time.Minute))
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim after the lease expired = %d, %v; want 1", len(got), err)
	}
	if got[0].Attempts != 2 || got[0].LeaseOwner != "w2" {
		t.Errorf("reclaimed = attempts %d owner %q, want 2 w2", got[0].Attempts, got[0].LeaseOwner)
	}
	if err := s.Finish(ctx, ids[0], "dead-replica", store.Outcome{State: store.Delivered}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Finish by the old owner = %v, want ErrLeaseLost", err)
	}
}

func TestRequeue(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	dead := store.NewDelivery{Rule: "r", Sink: "crm", Dead: true, Reason: "template", Error: "boom"}
	a, err := s.Ingest(ctx, call(1, t0), []store.NewDelivery{dead, pending("slack")})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	b, err := s.Ingest(ctx, call(2, t0), []store.NewDelivery{dead, dead})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	now := t0.Add(time.Hour)
	tests := []struct {
		name    string
		sel     store.Selector
		want    int
		wantErr error
	}{
		{name: "one call", sel: store.Selector{CallID: 2}, want: 2},
		{name: "all dead", sel: store.Selector{AllDead: true}, want: 1},
		{name: "none dead left", sel: store.Selector{AllDead: true}, want: 0},
		{name: "one pending delivery", sel: store.Selector{DeliveryID: a[1]}, want: 1},
		{name: "unknown delivery", sel: store.Selector{DeliveryID: 999999}, wantErr: store.ErrNotFound},
		{name: "unknown call", sel: store.Selector{CallID: 999999}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.Requeue(ctx, tt.sel, now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Requeue = %v, want %v", err, tt.wantErr)
			}
			if n != tt.want {
				t.Errorf("Requeue = %d, want %d", n, tt.want)
			}
		})
	}
	for _, id := range append(a, b...) {
		d, err := s.GetDelivery(ctx, id)
		if err != nil {
			t.Fatalf("GetDelivery: %v", err)
		}
		if d.State != store.Pending || d.Attempts != 0 || !d.QueuedAt.Equal(now) || !d.NextAttemptAt.Equal(now) {
			t.Errorf("delivery %d = state %q attempts %d queued %v next %v, want pending 0 %v %v",
				id, d.State, d.Attempts, d.QueuedAt, d.NextAttemptAt, now, now)
		}
	}
	if _, err := s.Claim(ctx, "slack", "w", 1, time.Minute, now); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if n, err := s.Requeue(ctx, store.Selector{DeliveryID: a[1]}, now); err != nil || n != 0 {
		t.Errorf("Requeue of an in-flight delivery = %d, %v; want 0, nil", n, err)
	}
	if _, err := s.Requeue(ctx, store.Selector{AllDead: true, CallID: 1}, now); err == nil {
		t.Errorf("Requeue with two selectors = nil error, want one")
	}
}

func TestStatsQueuedSinksNextDue(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Ingest(ctx, call(1, t0), []store.NewDelivery{pending("slack"), pending("slack"),
		{Rule: "r", Sink: "crm", Dead: true}}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if _, err := s.Ingest(ctx, call(2, t0.Add(time.Minute)), []store.NewDelivery{pending("email")}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	got, err := s.Claim(ctx, "slack", "w", 1, time.Minute, t0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim = %d, %v", len(got), err)
	}
	stats, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	want := []store.SinkStats{
		{Sink: "crm", Dead: 1},
		{Sink: "email", Pending: 1, OldestPending: t0.Add(time.Minute)},
		{Sink: "slack", Pending: 1, Retrying: 1, InFlight: 1, OldestPending: t0},
	}
	if !slices.Equal(stats, want) {
		t.Errorf("Stats = %+v, want %+v", stats, want)
	}
	sinks, err := s.QueuedSinks(ctx)
	if err != nil {
		t.Fatalf("QueuedSinks: %v", err)
	}
	if !slices.Equal(sinks, []string{"email", "slack"}) {
		t.Errorf("QueuedSinks = %q, want [email slack]", sinks)
	}
	if _, ok, err := s.NextDue(ctx, "crm"); err != nil || ok {
		t.Errorf("NextDue(crm) = %v, %v; want none", ok, err)
	}
	if due, ok, err := s.NextDue(ctx, "slack"); err != nil || !ok || !due.Equal(t0) {
		t.Errorf("NextDue(slack) = %v %v %v, want %v", due, ok, err, t0)
	}
}

func TestPurge(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	old, err := s.Ingest(ctx, call(1, t0), []store.NewDelivery{pending("slack"), {Rule: "r", Sink: "crm", Dead: true}})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if _, err := s.Ingest(ctx, call(2, t0), []store.NewDelivery{pending("slack")}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	// Finish stamps UpdatedAt with the wall clock, so the cutoff is relative to it.
	cutoff := time.Now().Add(time.Hour)
	if _, err := s.Ingest(ctx, call(3, cutoff.Add(time.Hour)), nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	// Deliver call 1's slack delivery; call 2's stays pending.
	got, err := s.Claim(ctx, "slack", "w", 1, time.Minute, t0)
	if err != nil || len(got) != 1 || got[0].ID != old[0] {
		t.Fatalf("Claim = %d, %v; want call 1's delivery", len(got), err)
	}
	if err := s.Finish(ctx, old[0], "w", store.Outcome{State: store.Delivered, Attempt: store.Attempt{StartedAt: t0, Result: "success"}}); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	p, err := s.Purge(ctx, store.Retention{Finished: cutoff, Dead: cutoff})
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if want := (store.Purged{Calls: 1, Deliveries: 1, Dead: 1}); p != want {
		t.Errorf("Purge = %+v, want %+v (call 1 and its two deliveries; call 2 has a pending delivery, call 3 is recent)", p, want)
	}
	if _, err := s.GetCall(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall(1) after Purge = %v, want ErrNotFound", err)
	}
	for _, id := range []int64{2, 3} {
		if _, err := s.GetCall(ctx, id); err != nil {
			t.Errorf("GetCall(%d) after Purge = %v, want it kept", id, err)
		}
	}
	if as, err := s.Attempts(ctx, old[0]); err != nil || len(as) != 0 {
		t.Errorf("Attempts of a purged delivery = %d, %v; want none", len(as), err)
	}
}

func TestListPaging(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for id := int64(1); id <= 5; id++ {
		if _, err := s.Ingest(ctx, call(id, t0), []store.NewDelivery{pending("slack"), pending("crm")}); err != nil {
			t.Fatalf("Ingest: %v", err)
		}
	}
	calls, err := s.ListCalls(ctx, store.CallFilter{Before: store.CallCursor{ReceivedAt: t0, ID: 4}, Limit: 2})
	if err != nil {
		t.Fatalf("ListCalls: %v", err)
	}
	if len(calls) != 2 || calls[0].ID != 3 || calls[1].ID != 2 {
		t.Errorf("ListCalls(before 4, limit 2) = %d calls, want ids 3, 2", len(calls))
	}
	first, err := s.ListDeliveries(ctx, store.DeliveryFilter{Sink: "crm", Limit: 3})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	rest, err := s.ListDeliveries(ctx, store.DeliveryFilter{Sink: "crm", State: store.Pending, AfterID: first[len(first)-1].ID})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	all := append(first, rest...)
	if len(all) != 5 {
		t.Fatalf("crm deliveries over two pages = %d, want 5", len(all))
	}
	for i, d := range all {
		if d.Sink != "crm" || (i > 0 && d.ID <= all[i-1].ID) {
			t.Errorf("page row %d = id %d sink %q, want crm in ascending id order", i, d.ID, d.Sink)
		}
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(context.Background(), newSchema(t), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Ingest(ctx, call(1, t0), nil); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ingest after Close = %v, want ErrClosed", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
	if err := s.Watch(ctx, func(string) {}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}
