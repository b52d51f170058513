// Package sinks defines what every sink shares: the Sink interface, the rendered Message, the Delivery
// handed to a sink, and the classification of failures into retryable and permanent errors with a
// reason from a small fixed set.
//
// The sink decides whether a retry is worth it; the queue decides when.
package sinks

import (
	"context"
	"encoding/json"
	"strconv"
)

// Sink delivers rendered messages to one configured destination.
type Sink interface {
	// Send delivers d once. It returns nil on success, or an error that Classify turns into a retry
	// decision: an *Error carries its own; any other error is treated as a retryable connection failure.
	// Send must honour ctx and must not put secrets (URLs, tokens, passwords, header values) in errors.
	Send(ctx context.Context, d *Delivery) error
	// Preview returns exactly what Send would transmit for d, with secrets shown as "<secret>", for
	// `switchboard test`. It sends nothing.
	Preview(d *Delivery) (any, error)
}

// Message is an action's rendered output, stored at ingest and sent later. One type serves every
// sink; each sink reads the fields its actions have:
// slack: Text, Blocks; webhook: Headers, Body; email: To, Cc, Subject, Text, HTML; log: any.
type Message struct {
	Text    string            `json:"text,omitempty"`
	Blocks  json.RawMessage   `json:"blocks,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the webhook request body; for an action without `body` it is the call as received.
	Body    json.RawMessage `json:"body,omitempty"`
	To      []string        `json:"to,omitempty"`
	Cc      []string        `json:"cc,omitempty"`
	Subject string          `json:"subject,omitempty"`
	HTML    string          `json:"html,omitempty"`
}

// Delivery is one message on its way to one sink.
type Delivery struct {
	ID     int64 // the store's id; 0 in a dry run
	CallID int64
	Rule   string
	Action int // index of the action within its rule
	// Attempt is 1 for the first attempt.
	Attempt int
	Message *Message
	// TestAt, when not zero, marks a test message sent by `switchboard send-test` at this Unix time:
	// its idempotency key ends in "-test-<TestAt>", so a receiver never drops a second test as a repeat.
	TestAt int64
}

// IdempotencyKey is "<call id>-<rule>-<action index>": the same for every attempt of a delivery, so a
// receiver can drop a repeat. A notification (no call) has "notify-<delivery id>". A test message's
// key ends in "-test-<unix time>".
func (d *Delivery) IdempotencyKey() string {
	key := strconv.FormatInt(d.CallID, 10) + "-" + d.Rule + "-" + strconv.Itoa(d.Action)
	if d.CallID == 0 && d.ID != 0 {
		key = "notify-" + strconv.FormatInt(d.ID, 10)
	}
	if d.TestAt != 0 {
		key += "-test-" + strconv.FormatInt(d.TestAt, 10)
	}
	return key
}
