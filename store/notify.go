package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Notifications (the `notify:` section) are stored as deliveries like any other, so they go through
// the same durable outbox: claimed under a lease, retried, dead-lettered, visible in the API, purged
// with the same retention. A notification has no call: its CallID is 0 (NULL in the database), its
// Rule is NotifyRulePrefix followed by its kind ("notify:dead_letters", "notify:sink_down") and its
// Action is 0. Its idempotency key is "notify-<delivery id>".
//
// Dead deliveries wait to be notified in a table of their own (notify_pending: the delivery's id and
// when it died), filled by the store in the same transaction that makes a delivery dead (Finish, or
// Ingest for a message that failed to render), so that no death is missed across a crash. A dead
// notification is never recorded there: a notification that dies is not notified again. FlushDead
// turns everything waiting into one notification and empties the table in one transaction, under a
// store-wide lock, so that on PostgreSQL the deaths on every replica within one window make one
// message, and grouping survives a restart.

// NotifyRulePrefix starts the Rule of every notification delivery.
const NotifyRulePrefix = "notify:"

// IsNotification reports whether d is a notification rather than a delivery of a call.
func (d *Delivery) IsNotification() bool {
	return d.CallID == 0 && strings.HasPrefix(d.Rule, NotifyRulePrefix)
}

// NotificationKind returns the kind of a notification delivery ("dead_letters", "sink_down"), or ""
// when d is not one.
func (d *Delivery) NotificationKind() string {
	if !d.IsNotification() {
		return ""
	}
	return strings.TrimPrefix(d.Rule, NotifyRulePrefix)
}

// NotificationKey is the idempotency key of notification delivery id: "notify-<id>".
func NotificationKey(id int64) string { return "notify-" + strconv.FormatInt(id, 10) }

// Notification is a notification to queue.
type Notification struct {
	Kind    string // "dead_letters" or "sink_down"; the delivery's Rule is NotifyRulePrefix+Kind
	Sink    string
	Message []byte // the rendered sinks.Message as JSON
}

// DeadGroup is what FlushDead hands to its render function: the dead deliveries waiting to be
// notified, oldest death first.
type DeadGroup struct {
	// Deliveries are the first MaxListed of them.
	Deliveries []*Delivery
	// Total counts them all.
	Total int
}

// MaxListed is the most dead deliveries a DeadGroup lists.
const MaxListed = 100

// Notifier is the part of a store that holds notifications. Both stores implement it.
type Notifier interface {
	// AddNotification queues n as a pending delivery due at now and returns its id. Watchers learn
	// of it like of an ingested delivery.
	AddNotification(ctx context.Context, n Notification, now time.Time) (int64, error)
	// OldestDeath returns when the longest-waiting dead delivery not yet notified died, and false when
	// none waits.
	OldestDeath(ctx context.Context) (time.Time, bool, error)
	// FlushDead, when some dead delivery not yet notified died at or before cutoff, calls render with
	// every one waiting (still dead: a replayed one is dropped) and, in the same transaction, queues
	// the notification render returns (none when it returns nil) and forgets them all. It returns how
	// many deaths it consumed. Only one flush runs at a time across every process sharing the store:
	// a flush that finds another one running returns 0 at once. An error from render rolls back.
	FlushDead(ctx context.Context, cutoff, now time.Time, render func(DeadGroup) (*Notification, error)) (int, error)
}

// DeadFilter selects dead deliveries by what they were sent to and when they died (a dead delivery's
// UpdatedAt). Zero fields match everything.
type DeadFilter struct {
	Sink   string
	Rule   string
	Reason string // the last attempt's reason, such as client_error
	Since  time.Time
	Until  time.Time
}

// IsZero reports whether f matches every dead delivery.
func (f DeadFilter) IsZero() bool { return f == DeadFilter{} }

// Matches reports whether dead delivery d passes f.
func (f DeadFilter) Matches(d *Delivery) bool {
	return d.State == Dead && (f.Sink == "" || d.Sink == f.Sink) && (f.Rule == "" || d.Rule == f.Rule) &&
		(f.Reason == "" || d.LastReason == f.Reason) &&
		(f.Since.IsZero() || !d.UpdatedAt.Before(f.Since)) && (f.Until.IsZero() || !d.UpdatedAt.After(f.Until))
}
