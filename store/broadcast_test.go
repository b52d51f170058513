package store

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run in a synctest bubble: synctest.Wait returns once the subscribers' goroutines are
// blocked, and a notification that never comes fails receive on the bubble's fake clock at once.

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
		return ""
	}
}

func TestBroadcasterFansOut(t *testing.T) {
	synctest.Test(t, testBroadcasterFansOut)
}

func testBroadcasterFansOut(t *testing.T) {
	var b Broadcaster
	first, second := make(chan string, 10), make(chan string, 10)
	b.Subscribe(t.Context(), func(sink string) { first <- sink })
	b.Subscribe(t.Context(), func(sink string) { second <- sink })
	b.Notify("", "slack")
	for name, ch := range map[string]chan string{"first": first, "second": second} {
		if got := receive(t, ch); got != "slack" {
			t.Errorf("%s subscriber got %q, want slack (empty names are ignored)", name, got)
		}
	}
}

func TestBroadcasterCoalesces(t *testing.T) {
	synctest.Test(t, testBroadcasterCoalesces)
}

func testBroadcasterCoalesces(t *testing.T) {
	var b Broadcaster
	got := make(chan string, 10)
	busy, release := make(chan struct{}), make(chan struct{})
	b.Subscribe(t.Context(), func(sink string) {
		got <- sink
		if sink == "first" {
			close(busy)
			<-release
		}
	})
	b.Notify("first")
	<-busy
	b.Notify("crm", "slack")
	b.Notify("slack")
	b.Notify("crm")
	close(release)
	var seen []string
	for range 3 {
		seen = append(seen, receive(t, got))
	}
	if want := []string{"first", "crm", "slack"}; !slices.Equal(seen, want) {
		t.Errorf("notifications = %v, want %v (repeats while busy coalesced, sorted)", seen, want)
	}
	b.Notify("last")
	if next := receive(t, got); next != "last" {
		t.Errorf("notification after the coalesced ones = %q, want last (no leftover repeats)", next)
	}
}

func TestBroadcasterUnsubscribesOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b Broadcaster
		ctx, cancel := context.WithCancel(t.Context())
		b.Subscribe(ctx, func(string) {})
		cancel()
		synctest.Wait()
		b.mu.Lock()
		defer b.mu.Unlock()
		if n := len(b.subs); n != 0 {
			t.Errorf("%d subscribers once cancel took effect, want 0", n)
		}
	})
}
