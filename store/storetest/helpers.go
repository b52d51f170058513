package storetest

import (
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// ClaimAll ingests call 1, received at unix second 1000, with n deliveries to sink "a", claims them
// all for owner "w" with a one-hour lease, and returns their ids. Stores' own tests use it to set up
// Finish cases.
func ClaimAll(t *testing.T, s store.Store, n int) []int64 {
	t.Helper()
	ds := make([]store.NewDelivery, n)
	for i := range ds {
		ds[i] = store.NewDelivery{Rule: "r", Action: i, Sink: "a"}
	}
	received := time.Unix(1000, 0).UTC()
	ids, err := s.Ingest(t.Context(), &store.Call{ID: 1, ReceivedAt: received}, ds)
	if err != nil {
		t.Fatalf("Ingest error = %v, want nil", err)
	}
	got, err := s.Claim(t.Context(), "a", "w", n, time.Hour, received)
	if err != nil || len(got) != n {
		t.Fatalf("Claim = %d deliveries, %v; want %d, nil", len(got), err, n)
	}
	return ids
}

// Delivered is a successful outcome with the given HTTP status, started at unix second 1001.
func Delivered(status int) store.Outcome {
	return store.Outcome{State: store.Delivered, Attempt: store.Attempt{
		StartedAt: time.Unix(1001, 0), Duration: time.Millisecond, Result: "success", StatusCode: status}}
}
