package store

import (
	"context"
	"fmt"
	"time"
)

// SinkState is the state of a sink, shared by every process using the store.
type SinkState string

// The states of a sink. A sink without a stored state is active.
const (
	// SinkActive sinks are delivered to.
	SinkActive SinkState = "active"
	// SinkPaused sinks are not delivered to until someone resumes them; their deliveries wait and
	// do not age.
	SinkPaused SinkState = "paused"
	// SinkHeld sinks failed with retryable errors for their hold_after: their deliveries wait and do
	// not age, and one probe delivery at a time tests whether the sink is back.
	SinkHeld SinkState = "held"
)

// SinkStates lists the states in a fixed order, for metrics.
var SinkStates = []SinkState{SinkActive, SinkPaused, SinkHeld}

// Valid reports whether s is one of SinkStates.
func (s SinkState) Valid() bool { return s == SinkActive || s == SinkPaused || s == SinkHeld }

// SinkStatus is one sink's stored state.
type SinkStatus struct {
	Sink      string
	State     SinkState
	ChangedAt time.Time // when State last changed; zero if it never did
	ChangedBy string    // who changed it: "api 10.0.0.7:51234", "cli", "hold", "probe"
	// FailingSince is when the first retryable failure after the last success happened; zero when
	// the latest attempt succeeded (or none failed).
	FailingSince time.Time
	LastError    string // the latest retryable failure, kept after a success
	LastErrorAt  time.Time
	ProbeOwner   string // who holds the probe lease of a held sink
	ProbeExpires time.Time
}

// SinkChange is what one sink-state call did: the state before and after (equal when nothing changed).
type SinkChange struct {
	Sink      string
	From, To  SinkState
	LastError string
	At        time.Time
}

// Changed reports whether the call changed the sink's state.
func (c SinkChange) Changed() bool { return c.From != c.To }

// SinkStateStore keeps sink states. A transition to active (a resume, or a held sink's successful
// probe) restarts the sink's pending deliveries: they become due at once, claimed oldest first, and
// their QueuedAt (the start of max_age) becomes the time of the transition; watchers are woken.
// While a sink is paused or held, Claim returns none of its deliveries.
type SinkStateStore interface {
	// SinkStatuses returns the stored state of every sink that has one, by name.
	SinkStatuses(ctx context.Context) ([]SinkStatus, error)
	// SetSinkState moves sink to state to (SinkActive or SinkPaused, an operator's request) on
	// behalf of by, and returns the change.
	SetSinkState(ctx context.Context, sink string, to SinkState, by string, now time.Time) (SinkChange, error)
	// SinkFailed records a retryable failure of an attempt to sink: FailingSince becomes now unless
	// already set, and LastError errText. An active sink failing since holdAfter or longer
	// (holdAfter > 0) becomes held.
	SinkFailed(ctx context.Context, sink, errText string, holdAfter time.Duration, now time.Time) (SinkChange, error)
	// SinkSucceeded records a successful attempt: FailingSince is cleared, and a held sink becomes
	// active.
	SinkSucceeded(ctx context.Context, sink string, now time.Time) (SinkChange, error)
	// ClaimProbe takes the probe lease of a held sink until now+every, when no other owner holds it,
	// and claims the sink's oldest queued delivery (pending, or in flight with an expired lease)
	// for owner until now+lease. A probe does not count against max_attempts: Attempts is left as it
	// was (AttemptNumber grows). It returns nil when the sink is not held, the lease is taken or
	// nothing is queued.
	ClaimProbe(ctx context.Context, sink, owner string, every, lease time.Duration, now time.Time) (*Delivery, error)
}

// SinkFailedStatus applies a retryable failure to cur (see SinkStateStore.SinkFailed).
func SinkFailedStatus(cur SinkStatus, errText string, holdAfter time.Duration, now time.Time) SinkStatus {
	next := cur
	if next.FailingSince.IsZero() {
		next.FailingSince = now
	}
	next.LastError, next.LastErrorAt = CleanText(errText), now
	if next.State == SinkActive && holdAfter > 0 && now.Sub(next.FailingSince) >= holdAfter {
		next.State, next.ChangedAt, next.ChangedBy = SinkHeld, now, "hold"
		next.ProbeOwner, next.ProbeExpires = "", time.Time{}
	}
	return next
}

// SinkSucceededStatus applies a success to cur (see SinkStateStore.SinkSucceeded).
func SinkSucceededStatus(cur SinkStatus, now time.Time) SinkStatus {
	next := cur
	next.FailingSince = time.Time{}
	if next.State == SinkHeld {
		next.State, next.ChangedAt, next.ChangedBy = SinkActive, now, "probe"
		next.ProbeOwner, next.ProbeExpires = "", time.Time{}
	}
	return next
}

// SetStatus applies an operator's change to cur (see SinkStateStore.SetSinkState). A resumed sink
// starts with a clean failure record, so that it is not held again for failures from before.
func SetStatus(cur SinkStatus, to SinkState, by string, now time.Time) SinkStatus {
	next := cur
	if next.State != to {
		next.State, next.ChangedAt, next.ChangedBy = to, now, by
		next.ProbeOwner, next.ProbeExpires = "", time.Time{}
		if to == SinkActive {
			next.FailingSince = time.Time{}
		}
	}
	return next
}

// Restarts reports whether going from cur to next restarts the sink's pending deliveries.
func Restarts(cur, next SinkStatus) bool { return cur.State != SinkActive && next.State == SinkActive }

// Change describes the move from cur to next.
func Change(cur, next SinkStatus) SinkChange {
	at := next.ChangedAt
	if !next.Changed(cur) {
		at = time.Time{}
	}
	return SinkChange{Sink: next.Sink, From: cur.State, To: next.State, LastError: next.LastError, At: at}
}

// Changed reports whether s is in another state than before.
func (s SinkStatus) Changed(before SinkStatus) bool { return s.State != before.State }

// SinkChanger is the one step a store implements for the transitions of SinkStateStore: read sink's
// status, apply fn to it and write the result in one transaction, restarting the sink's queued
// deliveries when it becomes active. Its methods are SetSinkState, SinkFailed and SinkSucceeded
// on top of it; a store embeds one set to its own step.
type SinkChanger func(ctx context.Context, sink string, now time.Time, fn func(SinkStatus) SinkStatus) (SinkChange, error)

// SetSinkState moves sink to an operator's state; see SinkStateStore.
func (c SinkChanger) SetSinkState(ctx context.Context, sink string, to SinkState, by string, now time.Time) (SinkChange, error) {
	if to != SinkActive && to != SinkPaused {
		return SinkChange{}, fmt.Errorf("set state of sink %q: %q is not active or paused", sink, to)
	}
	return c(ctx, sink, now, func(cur SinkStatus) SinkStatus { return SetStatus(cur, to, by, now) })
}

// SinkFailed records a retryable failure; see SinkStateStore.
func (c SinkChanger) SinkFailed(ctx context.Context, sink, errText string, holdAfter time.Duration, now time.Time) (SinkChange, error) {
	return c(ctx, sink, now, func(cur SinkStatus) SinkStatus { return SinkFailedStatus(cur, errText, holdAfter, now) })
}

// SinkSucceeded records a success; see SinkStateStore.
func (c SinkChanger) SinkSucceeded(ctx context.Context, sink string, now time.Time) (SinkChange, error) {
	return c(ctx, sink, now, func(cur SinkStatus) SinkStatus { return SinkSucceededStatus(cur, now) })
}
