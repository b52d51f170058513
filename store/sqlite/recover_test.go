package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

func TestRecoverInFlight(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sb.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := s.Ingest(ctx, &store.Call{ID: 1, ReceivedAt: now, Raw: []byte(`{"id":1}`)},
		[]store.NewDelivery{{Rule: "r", Sink: "slack", Message: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(ctx, "slack", "crashed-process", 10, time.Hour, now)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: got %d deliveries, err %v; want 1", len(claimed), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if again, _ := s.Claim(ctx, "slack", "new-process", 10, time.Hour, time.Now()); len(again) != 0 {
		t.Fatalf("before recovery the lease still holds: claimed %d, want 0", len(again))
	}
	n, err := s.RecoverInFlight(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RecoverInFlight = %d, %v; want 1, nil", n, err)
	}
	again, err := s.Claim(ctx, "slack", "new-process", 10, time.Hour, time.Now())
	if err != nil || len(again) != 1 {
		t.Fatalf("after recovery: claimed %d, err %v; want 1", len(again), err)
	}
	if again[0].Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the interrupted attempt stays counted)", again[0].Attempts)
	}
}
