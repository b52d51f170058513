package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// leased returns a delivery to create leased to owner until expires (store.NewDelivery.LeaseOwner).
func leased(rule string, action int, sink, owner string, expires time.Time) store.NewDelivery {
	d := pending(rule, action, sink)
	d.LeaseOwner, d.LeaseExpires = owner, expires
	return d
}

// testLeasedIngest checks a delivery created leased: stored as Claim would leave it, not claimable
// until its lease expires and claimable after, finished by its owner, counted in flight.
func testLeasedIngest(t *testing.T, s store.Store) {
	expires := at(time.Minute)
	c := newCall(1, t0, "r")
	given := []store.NewDelivery{
		leased("r", 0, "a", "relay/1", expires), // finished by its owner
		leased("r", 1, "a", "relay/2", expires), // its owner dies: claimed after the lease
		pending("r", 2, "a"),
		leased("r", 3, "a", "relay/3", expires),
	}
	given[3].Dead, given[3].Reason, given[3].Error = true, "template", "render text: unknown name" // a dead letter has no lease
	dids := mustIngest(t, s, c, given...)
	finished, orphan, queued, deadOne := dids[0], dids[1], dids[2], dids[3]

	for i, id := range []int64{finished, orphan} {
		want := store.LeasedDelivery(id, c, &given[i])
		got := mustGet(t, s, id)
		if got.State != store.InFlight || got.LeaseOwner != want.LeaseOwner || !got.LeaseExpires.Equal(expires) ||
			got.Attempts != 1 || got.AttemptNumber != 1 || !got.NextAttemptAt.Equal(t0) ||
			!got.ReceivedAt.Equal(t0) || !got.QueuedAt.Equal(t0) || string(got.Message) != string(want.Message) ||
			got.CallID != want.CallID || got.Rule != want.Rule || got.Action != want.Action || got.Sink != want.Sink {
			t.Errorf("leased delivery %d stored as %+v, want as LeasedDelivery gives it: %+v", id, got, want)
		}
	}
	if d := mustGet(t, s, deadOne); d.State != store.Dead || d.LeaseOwner != "" || d.Attempts != 0 {
		t.Errorf("dead delivery given a lease: state %s owner %q attempts %d, want dead, no owner, 0", d.State, d.LeaseOwner, d.Attempts)
	}

	stats, err := s.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats() error = %v, want nil", err)
	}
	if len(stats) != 1 || stats[0].InFlight != 2 || stats[0].Pending != 1 {
		t.Errorf("Stats() = %+v, want sink a with 2 in flight and 1 pending", stats)
	}

	got := mustClaim(t, s, "a", "other", 10, time.Minute, at(59*time.Second))
	if len(got) != 1 || got[0].ID != queued {
		t.Fatalf("Claim before the leases expire = %v, want only the pending %d", ids(got), queued)
	}
	if next, ok, err := s.NextDue(t.Context(), "a"); err != nil || !ok || !next.Equal(expires) {
		t.Errorf("NextDue(a) = %v, %v, %v; want the lease expiry %v", next, ok, err, expires)
	}

	mustFinish(t, s, finished, "relay/1", outcome(store.Delivered, t0, time.Time{}))
	if d := mustGet(t, s, finished); d.State != store.Delivered || d.LeaseOwner != "" {
		t.Errorf("finished by its owner: state %s owner %q, want delivered, no owner", d.State, d.LeaseOwner)
	}
	if as, err := s.Attempts(t.Context(), finished); err != nil || len(as) != 1 || as[0].Number != 1 {
		t.Errorf("Attempts(%d) = %+v, %v; want one attempt numbered 1", finished, as, err)
	}

	got = mustClaim(t, s, "a", "other", 10, time.Minute, expires)
	if len(got) != 1 || got[0].ID != orphan {
		t.Fatalf("Claim when the lease expired = %v, want [%d]", ids(got), orphan)
	}
	if d := got[0]; d.Attempts != 2 || d.AttemptNumber != 2 || d.LeaseOwner != "other" {
		t.Errorf("reclaimed leased delivery: attempts %d number %d owner %q, want 2 2 \"other\"", d.Attempts, d.AttemptNumber, d.LeaseOwner)
	}
	if err := s.Finish(t.Context(), orphan, "relay/2", outcome(store.Delivered, t0, time.Time{})); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Finish by the owner whose lease expired and was claimed error = %v, want ErrLeaseLost", err)
	}

	if _, err := s.Ingest(t.Context(), newCall(2, t0), []store.NewDelivery{leased("r", 0, "a", "relay/4", time.Time{})}); err == nil {
		t.Errorf("Ingest of a leased delivery without a lease expiry error = nil, want one")
	}
}

// testWatchSkipsLeased checks that Watch does not report a leased delivery: its owner has it.
// Notifications come in commit order, so the pending delivery committed after the leased one is
// reported before anything of the leased one could be.
func testWatchSkipsLeased(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	notified := make(chan string, 100)
	if err := s.Watch(ctx, func(sink string) { notified <- sink }); err != nil {
		t.Fatalf("Watch error = %v, want nil", err)
	}
	mustIngest(t, s, newCall(1, t0), leased("r", 0, "leased", "relay/1", at(time.Minute)))
	mustIngest(t, s, newCall(2, t0), pending("r", 0, "queued"))
	// Other tests sharing the database (PostgreSQL's notification channel is database-wide) may
	// notify their own sinks meanwhile: only these two names count.
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-notified:
			switch got {
			case "leased":
				t.Fatal("Watch reported the sink of the leased delivery, want only \"queued\"")
			case "queued":
				return
			}
		case <-timeout:
			t.Fatal("no notification for sink \"queued\" within 10s")
		}
	}
}

// testLeasedIngestInactiveSink checks that, like Claim, Ingest leases nothing of a paused or held
// sink: the delivery is stored pending, and its lease is cleared in the slice given, so the caller
// knows it did not get it.
func testLeasedIngestInactiveSink(t *testing.T, s store.Store) {
	if _, err := s.SetSinkState(t.Context(), "paused", store.SinkPaused, "cli", t0); err != nil {
		t.Fatalf("SetSinkState(paused) error = %v, want nil", err)
	}
	expires := at(time.Minute)
	ds := []store.NewDelivery{leased("r", 0, "paused", "relay/1", expires), leased("r", 1, "a", "relay/2", expires)}
	dids, err := s.Ingest(t.Context(), newCall(1, t0), ds) // ds itself: Ingest writes back to it
	if err != nil || len(dids) != 2 {
		t.Fatalf("Ingest = %v, %v; want 2 ids", dids, err)
	}
	if ds[0].Leased() || !ds[0].LeaseExpires.IsZero() {
		t.Errorf("delivery to the paused sink after Ingest: lease %q until %v, want it cleared", ds[0].LeaseOwner, ds[0].LeaseExpires)
	}
	if d := mustGet(t, s, dids[0]); d.State != store.Pending || d.LeaseOwner != "" || d.Attempts != 0 {
		t.Errorf("delivery to the paused sink: %s owner %q attempts %d, want pending, no owner, 0", d.State, d.LeaseOwner, d.Attempts)
	}
	if ds[1].LeaseOwner != "relay/2" || !ds[1].LeaseExpires.Equal(expires) {
		t.Errorf("delivery to the active sink after Ingest: lease %q until %v, want it kept", ds[1].LeaseOwner, ds[1].LeaseExpires)
	}
	if d := mustGet(t, s, dids[1]); d.State != store.InFlight || d.LeaseOwner != "relay/2" {
		t.Errorf("delivery to the active sink: %s owner %q, want in_flight \"relay/2\"", d.State, d.LeaseOwner)
	}
}
