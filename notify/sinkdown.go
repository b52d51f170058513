package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
	"github.com/switchboard-relay/switchboard/store"
)

// Sink states, as SinkStateEvent names them.
const (
	StateActive = "active"
	StatePaused = "paused"
	StateHeld   = "held"
)

// SinkStateEvent is one change of a sink's state, as the dispatcher reports it.
type SinkStateEvent struct {
	Sink      string
	From, To  string // active, paused or held
	LastError string
	At        time.Time
}

// SinkStateChanged queues a sink_down notification when a sink becomes held, and when a held sink
// becomes active again; other changes (pausing, resuming a paused sink) are asked for by a person and
// are not notified. It has the signature of the dispatcher's SinkStateChanged hook. Nothing is
// queued when notify.sink_down is not configured, or for the notification sink's own state: a sink
// cannot carry the news of its own failure, and telling it of its recovery would announce a failure
// nobody was told of.
func (n *Notifier) SinkStateChanged(ev SinkStateEvent) {
	s := n.settings()
	t := s.SinkDown
	if t == nil || ev.Sink == t.Sink {
		return
	}
	down := ev.To == StateHeld && ev.From != StateHeld
	up := ev.From == StateHeld && ev.To == StateActive
	if !down && !up {
		return
	}
	msg, err := sinkDownMessage(t, ev, down, n.mask)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = n.opts.Store.AddNotification(ctx, store.Notification{Kind: KindSinkDown, Sink: t.Sink, Message: msg}, n.opts.Now())
	}
	if err != nil {
		n.log.Error("queue sink_down notification", "sink", ev.Sink, "state", ev.To, "err", err)
		n.metrics.count(KindSinkDown, OutcomeFailed)
		return
	}
	n.metrics.count(KindSinkDown, OutcomeQueued)
	n.log.Info("sink_down notification queued", "sink", ev.Sink, "state", ev.To, "notify_sink", t.Sink)
}

// sinkDownMessage renders a sink_down notification for t's sink type.
func sinkDownMessage(t *Target, ev SinkStateEvent, down bool, mask func(string) string) (sinks.Message, error) {
	lastErr := mask(ev.LastError)
	subject := fmt.Sprintf("Switchboard: sink %s recovered", ev.Sink)
	text := fmt.Sprintf("Switchboard: sink %s is active again: its held deliveries are being sent, oldest first.", ev.Sink)
	if down {
		subject = fmt.Sprintf("Switchboard: sink %s is down", ev.Sink)
		text = fmt.Sprintf("Switchboard: sink %s is held: every attempt has failed for a while, so its deliveries wait "+
			"(they do not age toward dead letters) and one probe is tried at a time. Last error: %s", ev.Sink, lastErr)
	}
	typ := catalog.Lookup(t.SinkType)
	if typ == nil {
		return nil, fmt.Errorf("notify.sink_down: sink type %q is unknown", t.SinkType)
	}
	event, err := json.Marshal(struct {
		Event string    `json:"event"`
		Sink  string    `json:"sink"`
		From  string    `json:"from"`
		To    string    `json:"to"`
		Error string    `json:"error,omitempty"`
		At    time.Time `json:"at"`
	}{KindSinkDown, ev.Sink, ev.From, ev.To, lastErr, ev.At.UTC()})
	if err != nil {
		return nil, err
	}
	return typ.Notice(spec.Notice{Kind: KindSinkDown, Subject: subject, Text: text, To: t.To, Event: event})
}
