// Package sinks defines what every sink shares: the Sink interface, the rendered Message, the Delivery
// handed to a sink, and the classification of failures into retryable and permanent errors with a
// reason from a small fixed set.
//
// The sink decides whether a retry is worth it; the queue decides when.
package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Message is an action's rendered output, stored at ingest and sent later: a JSON object keyed by the
// names of the action keys of the sink's type (sinks/spec says what each kind of key renders to), such
// as {"text":"…","blocks":[…]} for Slack or {"headers":{…},"body":{…}} for a webhook. Each sink decodes
// it into a message type of its own with Decode.
type Message json.RawMessage

// MarshalJSON implements json.Marshaler: the message embeds as the object it is (null when empty).
func (m Message) MarshalJSON() ([]byte, error) {
	if len(m) == 0 {
		return []byte("null"), nil
	}
	return m, nil
}

// UnmarshalJSON implements json.Unmarshaler, keeping a copy of the object as it is.
func (m *Message) UnmarshalJSON(b []byte) error {
	*m = append((*m)[:0], b...)
	return nil
}

// Decode reads the message into v, a sink's own message type. An empty or unreadable message is a
// permanent error with reason template: there is nothing a retry could send.
func (m Message) Decode(v any) error {
	if len(m) == 0 {
		return Permanent(ReasonTemplate, errors.New("the delivery has no message: re-render it"))
	}
	if err := json.Unmarshal(m, v); err != nil {
		return Permanent(ReasonTemplate, fmt.Errorf("stored message is unreadable: %w", err))
	}
	return nil
}

// Delivery is one message on its way to one sink.
type Delivery struct {
	ID     int64 // the store's id; 0 in a dry run
	CallID int64
	Rule   string
	Action int // index of the action within its rule
	// Attempt is 1 for the first attempt.
	Attempt int
	Message Message
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

// Get reads the value of key into v; found is false when the message does not have key.
func (m Message) Get(key string, v any) (found bool, err error) {
	for _, kv := range m.Members() {
		if kv.Key == key {
			return true, json.Unmarshal(kv.Value, v)
		}
	}
	return false, nil
}

// Set returns the message with key set to v (encoded as JSON): in its place when the message has
// key, else last. Every other key keeps its place and value.
func (m Message) Set(key string, v any) (Message, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	members := m.Members()
	set := false
	for i := range members {
		if members[i].Key == key {
			members[i].Value, set = raw, true
		}
	}
	if !set {
		members = append(members, Member{Key: key, Value: raw})
	}
	out := []byte{'{'}
	for i, kv := range members {
		if i > 0 {
			out = append(out, ',')
		}
		k, _ := json.Marshal(kv.Key)
		out = append(append(append(out, k...), ':'), kv.Value...)
	}
	return append(out, '}'), nil
}

// Member is one key of a message with its value as JSON.
type Member struct {
	Key   string
	Value json.RawMessage
}

// Members returns the message's keys in the order they are written; those it could read when it is
// not a JSON object.
func (m Message) Members() []Member {
	dec := json.NewDecoder(bytes.NewReader(m))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []Member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return out
		}
		out = append(out, Member{Key: key, Value: raw})
	}
	return out
}
