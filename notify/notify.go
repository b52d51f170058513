// Package notify tells a person when deliveries fail, through the sinks Switchboard already has
// (the `notify:` section): dead deliveries grouped into one message per group_wait window
// (dead_letters), and a sink held after failing for too long, then recovered (sink_down).
//
// Notifications are deliveries without a call, queued in the store's durable outbox (see store's
// notify.go), so they are retried, survive restarts and show in the API like any delivery. The store
// records each death in the transaction that makes a delivery dead; the Notifier only decides when a
// group is complete and renders it, and the store's FlushDead turns the group into one notification
// under a store-wide lock, so that replicas sharing PostgreSQL send one message per window. A
// notification that dies itself is logged and counted, and never notified again.
package notify

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// Options configure a Notifier. Store is required.
type Options struct {
	Store   store.Notifier
	Logger  *slog.Logger
	Metrics *Metrics
	// Mask hides phone numbers in the errors a notification quotes, as the logs do; nil shows them.
	Mask func(string) string
	// Poll is the longest the Notifier waits before looking for deaths again (those recorded by
	// another process or replica wake no one here). Default 5s.
	Poll time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Notifier turns dead deliveries and sink state changes into notifications.
type Notifier struct {
	opts    Options
	log     *slog.Logger
	metrics *Metrics
	mask    func(string) string
	cur     atomic.Pointer[Settings]
	wake    chan struct{}
}

// New returns a Notifier with no notifications configured; call Apply, then Run.
func New(opts Options) *Notifier {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.Mask == nil {
		opts.Mask = func(s string) string { return s }
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	n := &Notifier{opts: opts, log: opts.Logger, metrics: opts.Metrics, mask: opts.Mask, wake: make(chan struct{}, 1)}
	n.cur.Store(&Settings{})
	return n
}

// Apply makes s the notifications in force (at start and on each reload).
func (n *Notifier) Apply(s *Settings) {
	if s == nil {
		s = &Settings{}
	}
	n.cur.Store(s)
	n.Wake()
}

func (n *Notifier) settings() *Settings { return n.cur.Load() }

// Wake makes Run look for deaths now (a delivery died in this process).
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// DeliveryFinished is the dispatcher's hook for every delivery that reached a final state. A death
// wakes Run; a notification's end is counted, and a dead notification is logged, never notified.
func (n *Notifier) DeliveryFinished(d *store.Delivery, state store.State, lastError string) {
	if !d.IsNotification() {
		if state == store.Dead {
			n.Wake()
		}
		return
	}
	kind := d.NotificationKind()
	switch state {
	case store.Delivered:
		n.metrics.count(kind, OutcomeDelivered)
	case store.Dead:
		n.metrics.count(kind, OutcomeDead)
		n.log.Error("notification dead: it is not notified again; see the delivery in the API",
			"delivery_id", d.ID, "kind", kind, "sink", d.Sink, "err", lastError)
	}
}

// Run gathers deaths into notifications until ctx is done: once the oldest death waiting is
// group_wait old, every death waiting becomes one dead_letters notification. Without dead_letters
// configured, deaths are forgotten as they come.
func (n *Notifier) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := n.step(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-timer.C:
		}
	}
}

// step flushes when a group is due and returns how long to wait before the next look.
func (n *Notifier) step(ctx context.Context) time.Duration {
	poll := n.opts.Poll
	oldest, ok, err := n.opts.Store.OldestDeath(ctx)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("look for dead deliveries to notify", "err", err)
		}
		return poll
	}
	if !ok {
		return poll
	}
	var gw time.Duration
	if t := n.settings().DeadLetters; t != nil {
		gw = t.GroupWait
	}
	now := n.opts.Now()
	if due := oldest.Add(gw); now.Before(due) {
		return min(due.Sub(now), poll)
	}
	if flushed := n.flush(ctx, now.Add(-gw), now); flushed > 0 {
		return 0 // more may have died meanwhile: look again at once
	}
	return poll
}

// flush makes one notification of every death waiting, and returns how many it took.
func (n *Notifier) flush(ctx context.Context, cutoff, now time.Time) int {
	s := n.settings()
	t := s.DeadLetters
	queued := false
	taken, err := n.opts.Store.FlushDead(ctx, cutoff, now, func(g store.DeadGroup) (*store.Notification, error) {
		if t == nil {
			return nil, nil
		}
		msg, err := newGroup(g, s.PublicURL, n.mask).message(t)
		if err != nil {
			// A text that fails at run time must not hold the deaths forever: say so, and send the default.
			n.log.Error("render dead_letters notification: sending the default message instead", "err", err)
			def := *t
			def.Text = nil
			if msg, err = newGroup(g, s.PublicURL, n.mask).message(&def); err != nil {
				return nil, err
			}
		}
		queued = true
		return &store.Notification{Kind: KindDeadLetters, Sink: t.Sink, Message: msg}, nil
	})
	if err != nil {
		if ctx.Err() == nil {
			n.log.Error("queue dead_letters notification", "err", err)
			n.metrics.count(KindDeadLetters, OutcomeFailed)
		}
		return 0
	}
	if queued {
		n.metrics.count(KindDeadLetters, OutcomeQueued)
		n.log.Info("dead_letters notification queued", "deliveries", taken, "notify_sink", t.Sink)
	} else if taken > 0 {
		n.log.Debug("dead deliveries not notified: notify.dead_letters is not configured", "deliveries", taken)
	}
	return taken
}
