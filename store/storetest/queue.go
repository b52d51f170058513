package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

func testClaimDueOrdered(t *testing.T, s store.Store) {
	late := mustIngest(t, s, newCall(1, at(2*time.Second)), pending("r", 0, "a"))
	early := mustIngest(t, s, newCall(2, t0), pending("r", 0, "a"), pending("r", 1, "b"))
	future := mustIngest(t, s, newCall(3, at(10*time.Second)), pending("r", 0, "a"))
	mustIngest(t, s, newCall(4, t0), dead("r", 0, "a"))

	if got := mustClaim(t, s, "a", "w", 10, time.Minute, at(-time.Second)); len(got) != 0 {
		t.Errorf("Claim before anything is due = %v, want none", ids(got))
	}
	now := at(5 * time.Second)
	got := mustClaim(t, s, "a", "w", 1, time.Minute, now)
	if want := early[:1]; !slices.Equal(ids(got), want) {
		t.Fatalf("Claim(limit 1) = %v, want the earliest due %v", ids(got), want)
	}
	got = append(got, mustClaim(t, s, "a", "w", 10, time.Minute, now)...)
	if want := []int64{early[0], late[0]}; !slices.Equal(ids(got), want) {
		t.Errorf("Claims at %v = %v, want %v (due ones, earliest first, not the future %v, the dead or sink b)", now, ids(got), want, future)
	}
	for _, d := range got {
		if d.State != store.InFlight || d.LeaseOwner != "w" || !d.LeaseExpires.Equal(now.Add(time.Minute)) || d.Attempts != 1 {
			t.Errorf("claimed delivery %d: state %s owner %q lease %v attempts %d, want in_flight \"w\" %v 1",
				d.ID, d.State, d.LeaseOwner, d.LeaseExpires, d.Attempts, now.Add(time.Minute))
		}
		if stored := mustGet(t, s, d.ID); stored.State != store.InFlight || stored.LeaseOwner != "w" || stored.Attempts != 1 {
			t.Errorf("stored claimed delivery %d: state %s owner %q attempts %d, want in_flight \"w\" 1", d.ID, stored.State, stored.LeaseOwner, stored.Attempts)
		}
		if string(d.Message) == "" || d.Sink != "a" || d.CallID == 0 {
			t.Errorf("claimed delivery %d lacks its message, sink or call: %+v", d.ID, d)
		}
	}
	if got := mustClaim(t, s, "a", "w2", 10, time.Minute, now); len(got) != 0 {
		t.Errorf("Claim of leased work = %v, want none", ids(got))
	}
	if got := mustClaim(t, s, "a", "w", 0, time.Minute, at(time.Hour)); len(got) != 0 {
		t.Errorf("Claim(limit 0) = %v, want none", ids(got))
	}
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	const total, claimers = 150, 6
	for i := range total {
		mustIngest(t, s, newCall(int64(i+1), at(time.Duration(i)*time.Millisecond)), pending("r", 0, "a"))
	}
	now := at(time.Hour)
	claimed := make([][]int64, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			owner := fmt.Sprintf("w%d", c)
			for {
				ds, err := s.Claim(context.Background(), "a", owner, 7, time.Minute, now)
				if err != nil {
					errs[c] = err
					return
				}
				if len(ds) == 0 {
					return
				}
				for _, d := range ds {
					if d.LeaseOwner != owner {
						errs[c] = fmt.Errorf("claimed delivery %d has owner %q, want %q", d.ID, d.LeaseOwner, owner)
						return
					}
					claimed[c] = append(claimed[c], d.ID)
				}
			}
		})
	}
	wg.Wait()
	var all []int64
	for c, err := range errs {
		if err != nil {
			t.Errorf("claimer %d: %v", c, err)
		}
		all = append(all, claimed[c]...)
	}
	seen := map[int64]int{}
	for _, id := range all {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("delivery %d claimed by two claimers", id)
		}
	}
	if len(seen) != total {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), total)
	}
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	dids := mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"))
	id := dids[0]
	first := mustClaim(t, s, "a", "w1", 1, 30*time.Second, t0)
	if len(first) != 1 || first[0].Attempts != 1 {
		t.Fatalf("first Claim = %d deliveries, want 1 with 1 attempt", len(first))
	}
	if got := mustClaim(t, s, "a", "w2", 1, 30*time.Second, at(29*time.Second)); len(got) != 0 {
		t.Errorf("Claim before the lease expires = %v, want none", ids(got))
	}
	second := mustClaim(t, s, "a", "w2", 1, 30*time.Second, at(30*time.Second))
	if len(second) != 1 || second[0].ID != id {
		t.Fatalf("Claim when the lease expired = %v, want [%d]", ids(second), id)
	}
	if d := second[0]; d.Attempts != 2 || d.LeaseOwner != "w2" || !d.LeaseExpires.Equal(at(60*time.Second)) {
		t.Errorf("reclaimed delivery: attempts %d owner %q lease %v, want 2 \"w2\" %v", d.Attempts, d.LeaseOwner, d.LeaseExpires, at(60*time.Second))
	}
	err := s.Finish(t.Context(), id, "w1", outcome(store.Delivered, t0, time.Time{}))
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Finish by the first owner error = %v, want ErrLeaseLost", err)
	}
	if d := mustGet(t, s, id); d.State != store.InFlight || d.LeaseOwner != "w2" {
		t.Errorf("after the first owner's late Finish: state %s owner %q, want in_flight \"w2\"", d.State, d.LeaseOwner)
	}
	mustFinish(t, s, id, "w2", outcome(store.Delivered, at(30*time.Second), time.Time{}))
	as, err := s.Attempts(t.Context(), id)
	if err != nil || len(as) != 1 || as[0].Number != 2 {
		t.Errorf("Attempts(%d) = %+v, %v; want one attempt numbered 2 (the crashed first counts)", id, as, err)
	}
}

func testFinishOutcomes(t *testing.T, s store.Store) {
	ctx := t.Context()
	dids := mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"), pending("r", 1, "a"))
	ok, retry := dids[0], dids[1]
	mustClaim(t, s, "a", "w", 10, time.Minute, t0)

	mustFinish(t, s, ok, "w", outcome(store.Delivered, t0, time.Time{}))
	if d := mustGet(t, s, ok); d.State != store.Delivered || d.LeaseOwner != "" || d.LastStatus != 200 {
		t.Errorf("delivered: state %s owner %q status %d, want delivered, no owner, 200", d.State, d.LeaseOwner, d.LastStatus)
	}

	next := at(2 * time.Minute)
	o := outcome(store.Pending, t0, next)
	mustFinish(t, s, retry, "w", o)
	d := mustGet(t, s, retry)
	if d.State != store.Pending || !d.NextAttemptAt.Equal(next) || d.LeaseOwner != "" || d.Attempts != 1 ||
		d.LastStatus != 503 || d.LastReason != "server_error" || d.LastError != o.Attempt.Error {
		t.Errorf("retrying: %+v, want pending at %v, no owner, 1 attempt, last 503 server_error %q", d, next, o.Attempt.Error)
	}
	if got := mustClaim(t, s, "a", "w", 10, time.Minute, next.Add(-time.Millisecond)); len(got) != 0 {
		t.Errorf("Claim before the retry is due = %v, want none", ids(got))
	}
	if got := mustClaim(t, s, "a", "w", 10, time.Minute, next); !slices.Equal(ids(got), []int64{retry}) || got[0].Attempts != 2 {
		t.Fatalf("Claim when the retry is due = %v, want [%d] at attempt 2", ids(got), retry)
	}
	mustFinish(t, s, retry, "w", outcome(store.Dead, next, time.Time{}))
	if d := mustGet(t, s, retry); d.State != store.Dead || d.LeaseOwner != "" || d.LastStatus != 400 || d.LastReason != "client_error" {
		t.Errorf("dead: state %s owner %q status %d reason %q, want dead, no owner, 400, client_error", d.State, d.LeaseOwner, d.LastStatus, d.LastReason)
	}
	if got := mustClaim(t, s, "a", "w", 10, time.Minute, at(time.Hour)); len(got) != 0 {
		t.Errorf("Claim after delivered and dead = %v, want none", ids(got))
	}

	tests := []struct {
		name string
		id   int64
		want []store.Attempt
	}{
		{name: "delivered", id: ok, want: []store.Attempt{
			{DeliveryID: ok, Number: 1, StartedAt: t0, Duration: 250 * time.Millisecond, Result: "success", StatusCode: 200}}},
		{name: "retried then dead", id: retry, want: []store.Attempt{
			{DeliveryID: retry, Number: 1, StartedAt: t0, Duration: 250 * time.Millisecond, Result: "retry", StatusCode: 503, Reason: "server_error", Error: "unexpected status 503"},
			{DeliveryID: retry, Number: 2, StartedAt: next, Duration: 250 * time.Millisecond, Result: "permanent", StatusCode: 400, Reason: "client_error", Error: "unexpected status 400"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Attempts(ctx, tt.id)
			if err != nil {
				t.Fatalf("Attempts(%d) error = %v, want nil", tt.id, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Attempts(%d) = %d attempts, want %d", tt.id, len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if !g.StartedAt.Equal(w.StartedAt) {
					t.Errorf("attempt %d StartedAt = %v, want %v", i, g.StartedAt, w.StartedAt)
				}
				g.StartedAt = w.StartedAt
				if g != w {
					t.Errorf("attempt %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func testFinishErrors(t *testing.T, s store.Store) {
	dids := mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"), pending("r", 1, "a"))
	mustClaim(t, s, "a", "w", 1, time.Minute, t0)
	mustFinish(t, s, dids[0], "w", outcome(store.Delivered, t0, time.Time{}))
	tests := []struct {
		name  string
		id    int64
		owner string
		want  []error
	}{
		{name: "already finished", id: dids[0], owner: "w", want: []error{store.ErrLeaseLost}},
		{name: "never claimed", id: dids[1], owner: "w", want: []error{store.ErrLeaseLost}},
		{name: "unknown delivery", id: dids[1] + 1000, owner: "w", want: []error{store.ErrNotFound, store.ErrLeaseLost}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Finish(t.Context(), tt.id, tt.owner, outcome(store.Delivered, t0, time.Time{}))
			if !slices.ContainsFunc(tt.want, func(w error) bool { return errors.Is(err, w) }) {
				t.Errorf("Finish(%d, %q) error = %v, want one of %v", tt.id, tt.owner, err, tt.want)
			}
		})
	}
	if as, err := s.Attempts(t.Context(), dids[1]); err != nil || len(as) != 0 {
		t.Errorf("Attempts after refused Finish = %d, %v; want 0, nil", len(as), err)
	}
}

func testNextDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	check := func(step string, want time.Time, wantOK bool) {
		t.Helper()
		got, ok, err := s.NextDue(ctx, "a")
		if err != nil {
			t.Fatalf("%s: NextDue(a) error = %v, want nil", step, err)
		}
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Errorf("%s: NextDue(a) = %v, %v; want %v, %v", step, got, ok, want, wantOK)
		}
	}
	check("empty store", time.Time{}, false)
	mustIngest(t, s, newCall(1, at(time.Minute)), pending("r", 0, "b"), dead("r", 1, "a"))
	check("only other sinks and dead letters", time.Time{}, false)
	dids := mustIngest(t, s, newCall(2, at(5*time.Second)), pending("r", 0, "a"))
	check("one pending", at(5*time.Second), true)
	mustClaim(t, s, "a", "w", 1, 30*time.Second, at(10*time.Second))
	check("in flight", at(40*time.Second), true)
	mustFinish(t, s, dids[0], "w", outcome(store.Pending, at(10*time.Second), at(3*time.Minute)))
	check("retry scheduled", at(3*time.Minute), true)
	mustIngest(t, s, newCall(3, at(2*time.Minute)), pending("r", 0, "a"))
	check("earliest of two", at(2*time.Minute), true)
}

func testQueuedSinks(t *testing.T, s store.Store) {
	if got, err := s.QueuedSinks(t.Context()); err != nil || len(got) != 0 {
		t.Errorf("QueuedSinks on an empty store = %v, %v; want none", got, err)
	}
	mustIngest(t, s, newCall(1, t0), pending("r", 0, "pending"), pending("r", 1, "flying"), dead("r", 2, "dead"), pending("r", 3, "done"))
	mustClaim(t, s, "flying", "w", 1, time.Minute, t0)
	done := mustClaim(t, s, "done", "w", 1, time.Minute, t0)
	mustFinish(t, s, done[0].ID, "w", outcome(store.Delivered, t0, time.Time{}))
	got, err := s.QueuedSinks(t.Context())
	if err != nil {
		t.Fatalf("QueuedSinks error = %v, want nil", err)
	}
	slices.Sort(got)
	if want := []string{"flying", "pending"}; !slices.Equal(got, want) {
		t.Errorf("QueuedSinks = %v, want %v", got, want)
	}
}

func testWatch(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	notified := make(chan string, 100)
	returned := make(chan error, 1)
	go func() {
		returned <- s.Watch(ctx, func(sink string) { notified <- sink })
	}()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("Watch error = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return within 10s: it must register fn and return, not block")
	}
	await := func(step, want string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case got := <-notified:
				if got == want {
					return
				}
			case <-timeout:
				t.Fatalf("%s: no notification for sink %q within 10s", step, want)
			}
		}
	}
	mustIngest(t, s, newCall(1, t0), pending("r", 0, "ingested"), dead("r", 1, "replayed"))
	await("Ingest", "ingested")
	n, err := s.Requeue(t.Context(), store.Selector{AllDead: true}, t0)
	if err != nil || n != 1 {
		t.Fatalf("Requeue(all dead) = %d, %v; want 1, nil", n, err)
	}
	await("Requeue", "replayed")
}
