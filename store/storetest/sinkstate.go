package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

func sinkStatus(t *testing.T, s store.Store, sink string) store.SinkStatus {
	t.Helper()
	all, err := s.SinkStatuses(t.Context())
	if err != nil {
		t.Fatalf("SinkStatuses error = %v, want nil", err)
	}
	for _, st := range all {
		if st.Sink == sink {
			return st
		}
	}
	return store.SinkStatus{Sink: sink, State: store.SinkActive}
}

func wantChange(t *testing.T, step string, got store.SinkChange, err error, from, to store.SinkState) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: error = %v, want nil", step, err)
	}
	if got.From != from || got.To != to {
		t.Fatalf("%s: change %s -> %s, want %s -> %s", step, got.From, got.To, from, to)
	}
}

// testSinkPauseResume: a paused sink's deliveries are not claimed; resuming restarts them (due now,
// queued now, oldest first) and wakes watchers.
func testSinkPauseResume(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	woken := make(chan string, 100)
	if err := s.Watch(ctx, func(sink string) { woken <- sink }); err != nil {
		t.Fatalf("Watch error = %v, want nil", err)
	}
	idsA := mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"), pending("r", 1, "a"), pending("r", 2, "b"))
	mustIngest(t, s, newCall(2, at(time.Second)), pending("r", 0, "a"))
	ch, err := s.SetSinkState(t.Context(), "a", store.SinkPaused, "cli", at(time.Minute))
	wantChange(t, "pause", ch, err, store.SinkActive, store.SinkPaused)
	ch, err = s.SetSinkState(t.Context(), "a", store.SinkPaused, "api 127.0.0.1:1", at(2*time.Minute))
	wantChange(t, "pause again", ch, err, store.SinkPaused, store.SinkPaused)
	if ch.Changed() {
		t.Errorf("pause again: Changed() = true, want false")
	}
	st := sinkStatus(t, s, "a")
	if st.State != store.SinkPaused || st.ChangedBy != "cli" || !st.ChangedAt.Equal(at(time.Minute)) {
		t.Errorf("status = %+v, want paused by cli at %s", st, at(time.Minute))
	}
	if got := mustClaim(t, s, "a", "w", 10, time.Minute, at(time.Hour)); len(got) != 0 {
		t.Fatalf("Claim(paused sink) = %v, want none", ids(got))
	}
	if got := mustClaim(t, s, "b", "w", 10, time.Minute, at(time.Hour)); len(got) != 1 {
		t.Fatalf("Claim(other sink) = %d deliveries, want 1: a pause is per sink", len(got))
	}
	if d, err := s.ClaimProbe(t.Context(), "a", "p", time.Minute, time.Minute, at(time.Hour)); err != nil || d != nil {
		t.Fatalf("ClaimProbe(paused sink) = %v, %v; want nil, nil: only a held sink is probed", d, err)
	}
	if _, err := s.SetSinkState(t.Context(), "a", store.SinkHeld, "cli", at(time.Hour)); err == nil {
		t.Errorf("SetSinkState(held) error = nil, want an error: only a failing sink becomes held")
	}

	resumed := at(2 * time.Hour)
	ch, err = s.SetSinkState(t.Context(), "a", store.SinkActive, "api 127.0.0.1:1", resumed)
	wantChange(t, "resume", ch, err, store.SinkPaused, store.SinkActive)
	for _, id := range idsA[:2] {
		d := mustGet(t, s, id)
		if !d.QueuedAt.Equal(resumed) || !d.NextAttemptAt.Equal(resumed) {
			t.Errorf("delivery %d after resume: queued %s, next %s; want both %s (max_age restarts)", id, d.QueuedAt, d.NextAttemptAt, resumed)
		}
	}
	got := mustClaim(t, s, "a", "w", 10, time.Minute, resumed)
	if len(got) != 3 || got[0].ID != idsA[0] || got[1].ID != idsA[1] || got[2].ID <= idsA[1] {
		t.Fatalf("Claim after resume = %v, want the 3 deliveries of a, oldest first", ids(got))
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case sink := <-woken:
			if sink == "a" {
				return
			}
		case <-timeout:
			t.Fatal("resume woke no watcher of sink a within 10s")
		}
	}
}

// testSinkHold: retryable failures for hold_after make a sink held; a held sink is not claimed but
// probed, one lease at a time, without spending attempts; a success makes it active and restarts its
// backlog.
func testSinkHold(t *testing.T, s store.Store) {
	idsA := mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"), pending("r", 1, "a"))
	hold := 10 * time.Minute
	steps := []struct {
		name    string
		fn      func() (store.SinkChange, error)
		from    store.SinkState
		to      store.SinkState
		failing time.Time
	}{
		{"first failure", func() (store.SinkChange, error) { return s.SinkFailed(t.Context(), "a", "boom 1", hold, at(0)) }, store.SinkActive, store.SinkActive, at(0)},
		{"failure within hold_after", func() (store.SinkChange, error) {
			return s.SinkFailed(t.Context(), "a", "boom 2", hold, at(5*time.Minute))
		}, store.SinkActive, store.SinkActive, at(0)},
		{"success resets", func() (store.SinkChange, error) { return s.SinkSucceeded(t.Context(), "a", at(6*time.Minute)) }, store.SinkActive, store.SinkActive, time.Time{}},
		{"failure after success", func() (store.SinkChange, error) {
			return s.SinkFailed(t.Context(), "a", "boom 3", hold, at(7*time.Minute))
		}, store.SinkActive, store.SinkActive, at(7 * time.Minute)},
		{"hold_after zero never holds", func() (store.SinkChange, error) {
			return s.SinkFailed(t.Context(), "a", "boom 4", 0, at(time.Hour))
		}, store.SinkActive, store.SinkActive, at(7 * time.Minute)},
		{"failing for hold_after", func() (store.SinkChange, error) {
			return s.SinkFailed(t.Context(), "a", "boom 5", hold, at(17*time.Minute))
		}, store.SinkActive, store.SinkHeld, at(7 * time.Minute)},
		{"failure while held", func() (store.SinkChange, error) {
			return s.SinkFailed(t.Context(), "a", "boom 6", hold, at(18*time.Minute))
		}, store.SinkHeld, store.SinkHeld, at(7 * time.Minute)},
	}
	for _, st := range steps {
		ch, err := st.fn()
		wantChange(t, st.name, ch, err, st.from, st.to)
		if got := sinkStatus(t, s, "a"); !got.FailingSince.Equal(st.failing) {
			t.Fatalf("%s: failing since %s, want %s", st.name, got.FailingSince, st.failing)
		}
	}
	if st := sinkStatus(t, s, "a"); st.LastError != "boom 6" || !st.LastErrorAt.Equal(at(18*time.Minute)) || st.ChangedBy != "hold" {
		t.Errorf("held status = %+v, want last error boom 6 at %s, changed by hold", st, at(18*time.Minute))
	}
	now := at(20 * time.Minute)
	if got := mustClaim(t, s, "a", "w", 10, time.Minute, now); len(got) != 0 {
		t.Fatalf("Claim(held sink) = %v, want none", ids(got))
	}
	probe, err := s.ClaimProbe(t.Context(), "a", "p1", time.Minute, 30*time.Second, now)
	if err != nil || probe == nil || probe.ID != idsA[0] {
		t.Fatalf("ClaimProbe = %+v, %v; want delivery %d, the oldest", probe, err, idsA[0])
	}
	if probe.Attempts != 0 || probe.AttemptNumber != 1 || probe.State != store.InFlight || probe.LeaseOwner != "p1" {
		t.Errorf("probe = attempts %d, number %d, %s by %q; want 0 (a probe spends no attempt), 1, in flight by p1",
			probe.Attempts, probe.AttemptNumber, probe.State, probe.LeaseOwner)
	}
	if d, err := s.ClaimProbe(t.Context(), "a", "p2", time.Minute, 30*time.Second, now.Add(59*time.Second)); err != nil || d != nil {
		t.Fatalf("second ClaimProbe within the probe lease = %v, %v; want nil, nil: one probe at a time", d, err)
	}
	mustFinish(t, s, probe.ID, "p1", outcome(store.Pending, now, now))
	again, err := s.ClaimProbe(t.Context(), "a", "p2", time.Minute, 30*time.Second, now.Add(time.Minute))
	if err != nil || again == nil || again.ID != idsA[0] {
		t.Fatalf("ClaimProbe after the lease = %+v, %v; want delivery %d again", again, err, idsA[0])
	}
	mustFinish(t, s, again.ID, "p2", outcome(store.Delivered, now, time.Time{}))
	recovered := now.Add(time.Minute)
	ch, err := s.SinkSucceeded(t.Context(), "a", recovered)
	wantChange(t, "probe succeeded", ch, err, store.SinkHeld, store.SinkActive)
	d := mustGet(t, s, idsA[1])
	if !d.QueuedAt.Equal(recovered) || !d.NextAttemptAt.Equal(recovered) {
		t.Errorf("backlog after recovery: queued %s, next %s; want both %s", d.QueuedAt, d.NextAttemptAt, recovered)
	}
	if got := mustClaim(t, s, "a", "w", 10, time.Minute, recovered); len(got) != 1 || got[0].ID != idsA[1] {
		t.Fatalf("Claim after recovery = %v, want [%d]", ids(got), idsA[1])
	}
	if d, err := s.ClaimProbe(t.Context(), "a", "p3", time.Minute, time.Minute, recovered.Add(time.Hour)); err != nil || d != nil {
		t.Fatalf("ClaimProbe(active sink) = %v, %v; want nil, nil", d, err)
	}
}
