package store

import (
	"context"
	"slices"
	"sync"
)

// Broadcaster fans out "deliveries for this sink became pending" to in-process watchers. Stores use it
// to implement Watch: they call Notify after a commit that made deliveries pending, and Watch
// registers fn with Subscribe.
//
// Notifications are coalesced per watcher: while fn is busy, repeated notifications for the same sink
// collapse into one. Notify never blocks on a slow watcher. The zero value is ready to use.
type Broadcaster struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	mu      sync.Mutex
	pending map[string]struct{}
	wake    chan struct{}
}

// Subscribe registers fn and returns at once; from then until ctx is done, fn is called with a sink's
// name after each Notify that names it. Calls to fn come from one goroutine per subscription, never
// concurrently with each other, and a call already running when ctx ends is not interrupted.
func (b *Broadcaster) Subscribe(ctx context.Context, fn func(sink string)) {
	s := &subscriber{pending: map[string]struct{}{}, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*subscriber]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
			s.mu.Lock()
			sinks := make([]string, 0, len(s.pending))
			for sink := range s.pending {
				sinks = append(sinks, sink)
			}
			clear(s.pending)
			s.mu.Unlock()
			slices.Sort(sinks)
			for _, sink := range sinks {
				if ctx.Err() != nil {
					return
				}
				fn(sink)
			}
		}
	}()
}

// Notify tells every current subscriber that deliveries for the given sinks became pending. Empty
// names are ignored.
func (b *Broadcaster) Notify(sinks ...string) {
	if len(sinks) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.mu.Lock()
		for _, sink := range sinks {
			if sink != "" {
				s.pending[sink] = struct{}{}
			}
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}
