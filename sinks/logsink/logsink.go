// Package logsink is the "log" sink: it writes each message to the log instead of sending it, for
// trying rules out and for switching a destination off without losing what would have gone there.
package logsink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/switchboard-relay/switchboard/sinks"
)

// Sink logs messages. It is safe for concurrent use.
type Sink struct {
	name string
	log  *slog.Logger
}

// New returns the log sink named name, writing to logger (nil discards). It needs no settings: a
// "log" sink ignores the keys of other sink types.
func New(name string, logger *slog.Logger) *Sink {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sink{name: name, log: logger}
}

// Send logs d's message at info level with the keys sink, call_id, rule, action and message (the
// message as JSON). It fails only for a delivery without a message.
func (s *Sink) Send(ctx context.Context, d *sinks.Delivery) error {
	if d == nil || len(d.Message) == 0 {
		return sinks.Permanent(sinks.ReasonTemplate, errors.New("the delivery has no message: re-render it"))
	}
	msg, err := json.Marshal(d.Message)
	if err != nil {
		return sinks.Permanent(sinks.ReasonTemplate, fmt.Errorf("encode message: %w", err))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "message", slog.String("sink", s.name), slog.Int64("call_id", d.CallID),
		slog.String("rule", d.Rule), slog.Int("action", d.Action), slog.String("message", string(msg)))
	return nil
}

// Preview returns the message as it would be logged.
func (s *Sink) Preview(d *sinks.Delivery) (any, error) {
	if d == nil || len(d.Message) == 0 {
		return nil, sinks.Permanent(sinks.ReasonTemplate, errors.New("the delivery has no message: re-render it"))
	}
	return d.Message, nil
}
