package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

func testIngestThenRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCall(12345, t0, "hot-leads", "all")
	ds := []store.NewDelivery{pending("hot-leads", 0, "sales-slack"), pending("hot-leads", 1, "crm"), dead("all", 0, "ops")}
	dids := mustIngest(t, s, c, ds...)
	if !slices.IsSorted(dids) || dids[0] == dids[1] || dids[1] == dids[2] {
		t.Errorf("Ingest ids = %v, want distinct and ascending", dids)
	}

	got, err := s.GetCall(ctx, c.ID)
	if err != nil {
		t.Fatalf("GetCall(%d) error = %v, want nil", c.ID, err)
	}
	if got.ID != c.ID || !got.ReceivedAt.Equal(c.ReceivedAt) || got.Status != c.Status ||
		!slices.Equal(got.Matched, c.Matched) || string(got.Raw) != string(c.Raw) {
		t.Errorf("GetCall(%d) = %+v, want %+v", c.ID, got, c)
	}
	if _, err := s.GetCall(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall(999) error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetDelivery(ctx, dids[2]+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDelivery(unknown) error = %v, want ErrNotFound", err)
	}

	for i, id := range dids {
		d := mustGet(t, s, id)
		want := ds[i]
		if d.ID != id || d.CallID != c.ID || d.Rule != want.Rule || d.Action != want.Action || d.Sink != want.Sink ||
			string(d.Message) != string(want.Message) {
			t.Errorf("GetDelivery(%d) = %+v, want call %d rule %q action %d sink %q message %s", id, d, c.ID, want.Rule, want.Action, want.Sink, want.Message)
		}
		if !d.ReceivedAt.Equal(t0) || !d.QueuedAt.Equal(t0) {
			t.Errorf("delivery %d: ReceivedAt %v QueuedAt %v, want both %v", id, d.ReceivedAt, d.QueuedAt, t0)
		}
		if d.Attempts != 0 || d.LeaseOwner != "" {
			t.Errorf("delivery %d: Attempts %d LeaseOwner %q, want 0 and empty", id, d.Attempts, d.LeaseOwner)
		}
		if want.Dead {
			if d.State != store.Dead || d.LastReason != want.Reason || d.LastError != want.Error {
				t.Errorf("dead-on-arrival delivery %d: state %s reason %q error %q, want dead %q %q", id, d.State, d.LastReason, d.LastError, want.Reason, want.Error)
			}
			continue
		}
		if d.State != store.Pending || d.NextAttemptAt.After(t0) {
			t.Errorf("delivery %d: state %s NextAttemptAt %v, want pending and due by %v", id, d.State, d.NextAttemptAt, t0)
		}
	}

	// A call with no matching rule is stored too, without deliveries.
	ids0 := mustIngest(t, s, newCall(12346, t0))
	if len(ids0) != 0 {
		t.Errorf("Ingest without deliveries returned %v, want none", ids0)
	}
	if got, err := s.GetCall(ctx, 12346); err != nil || len(got.Matched) != 0 {
		t.Errorf("GetCall(12346) = %+v, %v; want a call with no matched rules", got, err)
	}
	if got := listAll(t, s, store.DeliveryFilter{CallID: 12346}); len(got) != 0 {
		t.Errorf("deliveries of unmatched call = %d, want 0", len(got))
	}
}

func testIngestZeroReceivedAt(t *testing.T, s store.Store) {
	before := time.Now().Add(-time.Second)
	mustIngest(t, s, newCall(1, time.Time{}), pending("r", 0, "a"))
	after := time.Now().Add(time.Second)
	c, err := s.GetCall(t.Context(), 1)
	if err != nil {
		t.Fatalf("GetCall(1) error = %v, want nil", err)
	}
	if c.ReceivedAt.Before(before) || c.ReceivedAt.After(after) {
		t.Errorf("ReceivedAt = %v, want the time of ingest (between %v and %v)", c.ReceivedAt, before, after)
	}
}

func testIngestCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Ingest(ctx, newCall(1, t0), []store.NewDelivery{pending("r", 0, "a")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest(canceled ctx) error = %v, want context.Canceled", err)
	}
	if _, err := s.GetCall(t.Context(), 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall after canceled Ingest error = %v, want ErrNotFound", err)
	}
	mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"))
}

// testListCalls lists calls that arrived out of id order, two of them at the same time: newest
// first by arrival, then by id, paged by the cursor of each page's last call.
func testListCalls(t *testing.T, s store.Store) {
	received := map[int64]time.Duration{10: 3 * time.Second, 20: time.Second, 30: 5 * time.Second, 40: 3 * time.Second, 50: 2 * time.Second}
	for _, id := range []int64{10, 20, 30, 40, 50} {
		mustIngest(t, s, newCall(id, at(received[id])))
	}
	cursor := func(id int64) store.CallCursor { return store.CallCursor{ReceivedAt: at(received[id]), ID: id} }
	tests := []struct {
		name string
		f    store.CallFilter
		want []int64
	}{
		{name: "default", f: store.CallFilter{}, want: []int64{30, 40, 10, 50, 20}},
		{name: "limit", f: store.CallFilter{Limit: 2}, want: []int64{30, 40}},
		{name: "next page splits a tie", f: store.CallFilter{Before: cursor(40), Limit: 2}, want: []int64{10, 50}},
		{name: "last page", f: store.CallFilter{Before: cursor(50), Limit: 2}, want: []int64{20}},
		{name: "past the end", f: store.CallFilter{Before: cursor(20)}, want: nil},
		{name: "a time between calls", f: store.CallFilter{Before: store.CallCursor{ReceivedAt: at(4 * time.Second)}}, want: []int64{40, 10, 50, 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := s.ListCalls(t.Context(), tt.f)
			if err != nil {
				t.Fatalf("ListCalls(%+v) error = %v, want nil", tt.f, err)
			}
			var got []int64
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ListCalls(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
	t.Run("walk every page", func(t *testing.T) {
		var got []int64
		f := store.CallFilter{Limit: 2}
		for range 10 {
			cs, err := s.ListCalls(t.Context(), f)
			if err != nil {
				t.Fatalf("ListCalls(%+v) error = %v, want nil", f, err)
			}
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if len(cs) < f.Limit {
				break
			}
			f.Before = cs[len(cs)-1].Cursor()
		}
		if want := []int64{30, 40, 10, 50, 20}; !slices.Equal(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
	})
}

func testListDeliveries(t *testing.T, s store.Store) {
	a := mustIngest(t, s, newCall(1, t0), pending("r", 0, "slack"), pending("r", 1, "crm"), dead("r", 2, "slack"))
	b := mustIngest(t, s, newCall(2, t0), pending("r", 0, "slack"), dead("r", 1, "crm"))
	tests := []struct {
		name string
		f    store.DeliveryFilter
		want []int64
	}{
		{name: "all", f: store.DeliveryFilter{}, want: []int64{a[0], a[1], a[2], b[0], b[1]}},
		{name: "call", f: store.DeliveryFilter{CallID: 2}, want: []int64{b[0], b[1]}},
		{name: "state", f: store.DeliveryFilter{State: store.Dead}, want: []int64{a[2], b[1]}},
		{name: "sink", f: store.DeliveryFilter{Sink: "slack"}, want: []int64{a[0], a[2], b[0]}},
		{name: "sink and state", f: store.DeliveryFilter{Sink: "slack", State: store.Pending}, want: []int64{a[0], b[0]}},
		{name: "after id", f: store.DeliveryFilter{AfterID: a[2]}, want: []int64{b[0], b[1]}},
		{name: "limit", f: store.DeliveryFilter{Limit: 2}, want: []int64{a[0], a[1]}},
		{name: "no match", f: store.DeliveryFilter{CallID: 3}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := s.ListDeliveries(t.Context(), tt.f)
			if err != nil {
				t.Fatalf("ListDeliveries(%+v) error = %v, want nil", tt.f, err)
			}
			if got := ids(ds); !slices.Equal(got, tt.want) {
				t.Errorf("ListDeliveries(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func testDuplicateSequential(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := newCall(42, t0, "r")
	mustIngest(t, s, first, pending("r", 0, "a"))
	again := newCall(42, at(time.Minute), "other")
	again.Raw = []byte(`{"id":42,"status":"failed"}`)
	ids, err := s.Ingest(ctx, again, []store.NewDelivery{pending("other", 0, "b")})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second Ingest(42) = %v, %v; want ErrDuplicate", ids, err)
	}
	got, err := s.GetCall(ctx, 42)
	if err != nil {
		t.Fatalf("GetCall(42) error = %v, want nil", err)
	}
	if string(got.Raw) != string(first.Raw) || !slices.Equal(got.Matched, first.Matched) {
		t.Errorf("GetCall(42) = raw %s matched %v, want the first call: raw %s matched %v", got.Raw, got.Matched, first.Raw, first.Matched)
	}
	var sinks []string
	for _, d := range listAll(t, s, store.DeliveryFilter{}) {
		sinks = append(sinks, d.Sink)
	}
	if !slices.Equal(sinks, []string{"a"}) {
		t.Errorf("sinks of deliveries after duplicate = %v, want [a] (the first call's only)", sinks)
	}
}

func testDuplicateConcurrent(t *testing.T, s store.Store) {
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Ingest(t.Context(), newCall(7, t0), []store.NewDelivery{pending("r", 0, "a")})
		})
	}
	wg.Wait()
	accepted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, store.ErrDuplicate):
			t.Errorf("Ingest #%d error = %v, want nil or ErrDuplicate", i, err)
		}
	}
	if accepted != 1 {
		t.Errorf("%d of %d concurrent Ingests of one id accepted, want exactly 1", accepted, n)
	}
	if ds := listAll(t, s, store.DeliveryFilter{}); len(ds) != 1 {
		t.Errorf("deliveries stored = %d, want 1", len(ds))
	}
}

func testConcurrentIngest(t *testing.T, s store.Store) {
	const workers, each = 32, 25
	type result struct {
		callID int64
		ids    []int64
		err    error
	}
	results := make([]result, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				k := w*each + i
				id := int64(k + 1)
				dids, err := s.Ingest(t.Context(), newCall(id, t0), []store.NewDelivery{pending("r", 0, "a")})
				results[k] = result{callID: id, ids: dids, err: err}
			}
		})
	}
	wg.Wait()
	var all []int64
	for _, r := range results {
		if r.err != nil || len(r.ids) != 1 {
			t.Fatalf("Ingest(call %d) = %v, %v; want one id, nil", r.callID, r.ids, r.err)
		}
		all = append(all, r.ids[0])
	}
	if got := len(slices.Compact(sortedIDs(all))); got != len(all) {
		t.Errorf("distinct delivery ids = %d, want %d", got, len(all))
	}
	stored := listAll(t, s, store.DeliveryFilter{})
	if got, want := ids(stored), sortedIDs(all); !slices.Equal(got, want) {
		t.Errorf("stored delivery ids differ from acknowledged ones: %d stored, %d acknowledged", len(got), len(want))
	}
	for _, d := range stored {
		if d.CallID < 1 || d.CallID > workers*each {
			t.Errorf("delivery %d has call %d, want 1..%d", d.ID, d.CallID, workers*each)
		}
	}
	for _, r := range results {
		if _, err := s.GetCall(t.Context(), r.callID); err != nil {
			t.Fatalf("GetCall(%d) error = %v, want nil", r.callID, err)
		}
	}
}
