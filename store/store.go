// Package store is Switchboard's durable queue: a transactional outbox holding each received call and
// the deliveries its rules chose, with leases so that workers (on one node or several) claim due work
// without sending the same delivery twice at once.
//
// Implementations: store/sqlite (embedded default) and store/postgres (several replicas). Both pass the
// conformance suite in store/storetest.
//
// Bytes: a call is never refused for the bytes of its payload. The raw body and each rendered message
// are kept as bytes (BLOB, bytea) and come back exactly as given, NUL bytes and invalid UTF-8
// included. The text fields that may quote a payload (a call's Status, a delivery's LastError, an
// attempt's Error and Reason) are stored through CleanText, so NUL and invalid UTF-8 there become
// U+FFFD on every store alike: PostgreSQL's text type accepts neither, and these fields are for
// reading, not for replaying (the raw body is the record of what was received).
//
// Notifications (notify.go) are deliveries without a call: CallID 0 (NULL in the database), Rule
// "notify:<kind>", idempotency key "notify-<id>". Claim, Finish, Requeue, the listings, Purge and
// Stats treat them like any delivery. Dead deliveries waiting to be notified are kept in a table of
// their own (notify_pending), filled in the transaction that makes a delivery dead.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is where a delivery is in its life.
type State string

// The states of a delivery. Pending deliveries with Attempts > 0 are "retrying" in metrics.
const (
	Pending   State = "pending"   // waiting for NextAttemptAt
	InFlight  State = "in_flight" // claimed by a worker until LeaseExpires
	Delivered State = "delivered" // done
	Dead      State = "dead"      // gave up; kept for inspection and replay
)

// Errors returned by stores.
var (
	// ErrDuplicate is returned by Ingest when a call with the same id and the same content (see
	// SameContent) was already stored.
	ErrDuplicate = errors.New("duplicate call id")
	// ErrConflict is returned by Ingest when a call with the same id but other content was already
	// stored. It wraps ErrDuplicate: nothing is stored either way.
	ErrConflict = fmt.Errorf("%w with different content", ErrDuplicate)
	// ErrNotFound is returned when a call or delivery does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLeaseLost is returned by Finish when the delivery is no longer leased to the caller (its lease
	// expired and another worker claimed it, or it was replayed).
	ErrLeaseLost = errors.New("lease lost")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store closed")
)

// Call is a received webhook as stored.
type Call struct {
	ID         int64
	ReceivedAt time.Time
	Status     string
	// Matched is the names of the rules that matched, in evaluation order.
	Matched []string
	// Raw is the body exactly as received.
	Raw []byte
	// CustomerPhone and Duration are indexed for the console (see Console); when both are zero the
	// store reads them from Raw.
	CustomerPhone string
	Duration      int64
}

// NewDelivery is a delivery to create with its call.
type NewDelivery struct {
	Rule    string
	Action  int // index of the action within the rule
	Sink    string
	Message []byte // the rendered sinks.Message as JSON
	// Dead creates the delivery as a dead letter at once (its message failed to render), with
	// Reason and Error saying why.
	Dead   bool
	Reason string
	Error  string
	// LeaseOwner, when set, creates the delivery already claimed by LeaseOwner, exactly as Claim
	// would leave it: in flight, leased until LeaseExpires, its first attempt started (Attempts and
	// AttemptNumber 1). The dispatcher takes fresh work this way when a worker can send it at once
	// (dispatch.Reservation), so that it costs no claim; if the process dies before the send is
	// recorded, the delivery is claimable again once its lease expires. Watch does not report it
	// (its owner already has it). Ignored for a Dead delivery.
	//
	// Like Claim, Ingest leases nothing of a sink that is paused or held in the store (as the commit
	// sees it: another process may have changed it): such a delivery is stored pending, and Ingest
	// clears its LeaseOwner and LeaseExpires in the slice it was given, so that the caller knows.
	LeaseOwner   string
	LeaseExpires time.Time
}

// Leased reports whether d is created leased to its owner (see NewDelivery.LeaseOwner).
func (d *NewDelivery) Leased() bool { return d.LeaseOwner != "" && !d.Dead }

// LeasedDelivery returns the delivery that Ingest stored with id for d, a leased delivery of call c
// (see NewDelivery.LeaseOwner), as Claim would return it: what its owner needs to send it without
// reading it back. c.ReceivedAt must be the time given to Ingest (not zero).
func LeasedDelivery(id int64, c *Call, d *NewDelivery) *Delivery {
	return &Delivery{
		ID: id, CallID: c.ID, Rule: d.Rule, Action: d.Action, Sink: d.Sink, Message: d.Message,
		State: InFlight, Attempts: 1, AttemptNumber: 1,
		NextAttemptAt: c.ReceivedAt, ReceivedAt: c.ReceivedAt, QueuedAt: c.ReceivedAt, UpdatedAt: c.ReceivedAt,
		LeaseOwner: d.LeaseOwner, LeaseExpires: d.LeaseExpires,
	}
}

// Delivery is one stored delivery.
type Delivery struct {
	ID      int64
	CallID  int64
	Rule    string
	Action  int
	Sink    string
	Message []byte
	State   State
	// Attempts counts attempts started (a claim starts one), including one cut short by a crash,
	// since the delivery was created or last replayed: it is what max_attempts limits.
	Attempts int
	// AttemptNumber is the number of the latest attempt started: counted like Attempts but never
	// reset, so the attempt history numbers only grow, across replays too.
	AttemptNumber int
	NextAttemptAt time.Time
	// ReceivedAt is when the call was received; delivery latency is measured from it.
	ReceivedAt time.Time
	// QueuedAt is when the delivery was created or last replayed; max_age is measured from it.
	QueuedAt     time.Time
	LeaseOwner   string
	LeaseExpires time.Time
	LastError    string
	LastReason   string
	LastStatus   int
	UpdatedAt    time.Time
}

// Attempt records one delivery attempt.
type Attempt struct {
	DeliveryID int64
	Number     int
	StartedAt  time.Time
	Duration   time.Duration
	Result     string // "success", "retry" or "permanent"
	StatusCode int
	Reason     string
	Error      string
}

// Outcome is how an attempt ended, passed to Finish.
type Outcome struct {
	// State is Delivered, Pending (retry at NextAttemptAt) or Dead.
	State         State
	NextAttemptAt time.Time
	Attempt       Attempt
}

// Selector chooses the deliveries that Requeue puts back in the queue. Exactly one field is set.
type Selector struct {
	AllDead    bool  // every dead delivery
	CallID     int64 // every dead delivery of one call
	DeliveryID int64 // one delivery, whatever its state unless in flight
	// Dead selects the dead deliveries it matches (see DeadFilter); a zero filter is every one.
	Dead *DeadFilter
}

// DeliveryFilter narrows ListDeliveries; zero fields match everything.
type DeliveryFilter struct {
	CallID  int64
	State   State
	Sink    string
	AfterID int64 // for paging: only ids greater than this
	Limit   int   // default 100
	// Dead, when set, keeps only the dead deliveries it matches (State is then ignored).
	Dead *DeadFilter
}

// CallFilter narrows ListCalls.
type CallFilter struct {
	// Before pages: only calls after it in the list (received earlier, or at the same time with a
	// smaller id); zero for the newest. Pass the Cursor of the last call of the previous page.
	Before CallCursor
	Limit  int // default 100
}

// CallCursor is a call's place in ListCalls' order: newest first by the time it was received, then by
// id.
type CallCursor struct {
	ReceivedAt time.Time
	ID         int64
}

// IsZero reports whether c is the zero cursor (the start of the list).
func (c CallCursor) IsZero() bool { return c.ReceivedAt.IsZero() && c.ID == 0 }

// Cursor returns the call's place in ListCalls' order.
func (c *Call) Cursor() CallCursor { return CallCursor{ReceivedAt: c.ReceivedAt, ID: c.ID} }

// Retention is what Purge deletes: what is older than its cutoffs.
type Retention struct {
	// Finished is the cutoff for delivered deliveries (by their last update) and for calls (by
	// their arrival) that have no deliveries left; zero keeps them.
	Finished time.Time
	// Dead is the cutoff for dead deliveries, by the time they died or were last replayed; zero
	// keeps them until replayed.
	Dead time.Time
}

// Purged counts what one Purge deleted.
type Purged struct {
	Calls      int
	Deliveries int // delivered
	Dead       int // dead
}

// SinkStats is the queue of one sink, for metrics.
type SinkStats struct {
	Sink     string
	Pending  int // pending, never attempted
	Retrying int // pending after at least one attempt, or in flight
	InFlight int // in flight (also counted in Retrying)
	Dead     int
	// OldestPending is the QueuedAt of the oldest pending or in-flight delivery; zero when none.
	OldestPending time.Time
}

// Store is the durable queue. All methods are safe for concurrent use.
type Store interface {
	// Console holds the web console's searches and rollups.
	Console
	// SinkStateStore holds each sink's state (active, paused, held).
	SinkStateStore

	// Ingest stores a call and its deliveries in one durable transaction, returning the deliveries'
	// ids in order. It returns only after the commit is durable (fsync), and ErrDuplicate when a call
	// with the same id exists (then nothing is stored), or ErrConflict when that call's raw body has
	// other content (SameContent). Implementations may group concurrent calls into one transaction;
	// a failing group fails only its own callers.
	//
	// The store takes c.ReceivedAt (the time of the commit when zero) as the deliveries' creation
	// time: new pending deliveries are due at c.ReceivedAt and their QueuedAt and ReceivedAt are
	// c.ReceivedAt. A delivery created Dead has LastReason and LastError from its NewDelivery. A
	// leased one (NewDelivery.LeaseOwner) is created in flight, leased until its LeaseExpires; it is
	// due then, and Watch does not report it. A leased one whose sink is paused or held is created
	// pending, and its lease fields are cleared in ds.
	Ingest(ctx context.Context, c *Call, ds []NewDelivery) ([]int64, error)

	// Claim leases up to limit deliveries of sink that are due at now: pending with NextAttemptAt <= now,
	// or in flight with an expired lease. Each claimed delivery is InFlight, leased to owner until
	// now+lease, with Attempts and AttemptNumber incremented. Two concurrent claims never return the
	// same delivery.
	Claim(ctx context.Context, sink, owner string, limit int, lease time.Duration, now time.Time) ([]*Delivery, error)
	// Finish records an attempt and moves a delivery leased to owner to its outcome's state, clearing
	// the lease; it sets LastError, LastReason and LastStatus from the attempt. The attempt is recorded
	// with Number = the delivery's AttemptNumber. Implementations may group concurrent calls into one
	// transaction; each caller still gets its own outcome (a lost lease fails only its caller) and
	// Finish returns only after its own change committed.
	Finish(ctx context.Context, id int64, owner string, o Outcome) error
	// NextDue returns the earliest time at which a delivery of sink becomes claimable (a pending
	// delivery's NextAttemptAt or an in-flight one's LeaseExpires), and false when there is none.
	NextDue(ctx context.Context, sink string) (time.Time, bool, error)
	// QueuedSinks returns the names of the sinks that have pending or in-flight deliveries, so that
	// deliveries for sinks no longer configured can be found.
	QueuedSinks(ctx context.Context) ([]string, error)
	// Watch registers fn and returns at once. From then until ctx is done or the store is closed, fn
	// is called with a sink's name whenever deliveries for that sink become pending through Ingest or
	// Requeue (on any replica sharing the store). Calls to fn are serial and may be coalesced.
	// A change committed after Watch returned is always notified.
	Watch(ctx context.Context, fn func(sink string)) error

	// Requeue makes the selected deliveries pending again, due now, with Attempts reset (a replay gets
	// the whole max_attempts budget; AttemptNumber goes on growing) and QueuedAt set to now, and
	// returns how many it requeued. A DeliveryID that does not exist returns ErrNotFound; an
	// in-flight one is left alone and counts 0.
	Requeue(ctx context.Context, sel Selector, now time.Time) (int, error)

	// GetCall returns one call, or ErrNotFound.
	GetCall(ctx context.Context, id int64) (*Call, error)
	// ListCalls returns calls newest first: by ReceivedAt descending, then by id descending (calls
	// arrive in any id order).
	ListCalls(ctx context.Context, f CallFilter) ([]*Call, error)
	// GetDelivery returns one delivery, or ErrNotFound.
	GetDelivery(ctx context.Context, id int64) (*Delivery, error)
	// ListDeliveries returns deliveries by ascending id.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// Attempts returns the attempts of one delivery, oldest first.
	Attempts(ctx context.Context, deliveryID int64) ([]Attempt, error)

	// Purge deletes delivered deliveries last updated before r.Finished, dead deliveries last
	// updated before r.Dead, their attempts, and calls received before r.Finished that have no
	// deliveries left (so a call is kept while it has a dead letter). A zero time deletes nothing of
	// its kind. It returns how many it deleted of each kind.
	Purge(ctx context.Context, r Retention) (Purged, error)
	// Stats returns the queue of every sink that has pending, in-flight or dead deliveries. It is cheap
	// enough to call on every metrics scrape.
	Stats(ctx context.Context) ([]SinkStats, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Probe commits a tiny durable write (one row of a one-row table, created when missing) and
	// reports whether it succeeded: whether the store can commit at all right now (it cannot with a
	// full disk, a read-only file system or a read-only database). Readiness calls it every few
	// seconds.
	Probe(ctx context.Context) error
	// Close waits for in-progress commits and releases the store. Afterwards methods return ErrClosed,
	// and Close again returns nil.
	Close() error

	// Notifier holds notifications and the dead deliveries waiting to be notified (notify.go).
	Notifier
}
