// Package slack is the Slack sink: it posts a rendered message through an incoming webhook or through
// the Web API's chat.postMessage, and classifies Slack's answers as Slack documents them.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
)

// Sink posts to one Slack webhook or channel. It is safe for concurrent use.
type Sink struct {
	name   string
	set    settings
	client *httpsink.Client
	log    *slog.Logger
}

// Payload is the JSON body posted to Slack: {"text","blocks"} for a webhook, plus "channel" for the
// Web API. It is also what Preview returns.
type Payload struct {
	Channel string          `json:"channel,omitempty"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
}

// New returns the sink named name. A nil logger discards. Errors are *sinks.Error with reason config;
// they name the config key at fault, never its value, and not the sink: the caller adds its location.
func New(name string, conf *Settings, logger *slog.Logger) (*Sink, error) {
	return newSink(name, conf, logger, httpsink.Options{})
}

// newSink is New with transport options, so tests can shorten the in-request backoff.
func newSink(name string, conf *Settings, logger *slog.Logger, opts httpsink.Options) (*Sink, error) {
	set, err := check(conf)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("sink", name)
	opts.Logger = logger
	opts.Timeout = set.timeout
	if set.webAPI {
		opts.Redactor = sinks.NewRedactor(nil, set.token)
		opts.Interpret = interpretAPI
	} else {
		opts.Redactor = sinks.NewRedactor([]string{set.url})
		opts.Interpret = interpretWebhook
	}
	return &Sink{name: name, set: set, client: httpsink.New(opts), log: logger}, nil
}

// Send posts d's message once (with the transport's quick in-request retries). It returns nil only
// when Slack confirmed the post.
func (s *Sink) Send(ctx context.Context, d *sinks.Delivery) error {
	p, err := s.payload(d)
	if err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return sinks.Permanent(sinks.ReasonTemplate, fmt.Errorf("encode message: %w", err))
	}
	// Slack ignores Idempotency-Key, but a proxy or a Slack-compatible receiver can drop repeats by it
	// (every HTTP delivery carries one: README, "How it works").
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "User-Agent": {"Switchboard"},
		"Idempotency-Key": {d.IdempotencyKey()}}
	if s.set.webAPI {
		header.Set("Authorization", "Bearer "+s.set.token)
	}
	resp, err := s.client.Do(ctx, &httpsink.Request{Method: http.MethodPost, URL: s.set.url, Header: header, Body: body})
	if err != nil {
		return err
	}
	if s.set.webAPI {
		var a apiAnswer
		if json.Unmarshal(resp.Body, &a) == nil && a.Warning != "" {
			s.log.Warn("slack posted the message with a warning", "call_id", d.CallID, "rule", d.Rule,
				"action", d.Action, "warning", a.Warning)
		}
	}
	return nil
}

// Preview returns the Payload that Send would post. Nothing in it is secret: the webhook URL and the
// token travel outside the body.
func (s *Sink) Preview(d *sinks.Delivery) (any, error) {
	return s.payload(d)
}

func (s *Sink) payload(d *sinks.Delivery) (*Payload, error) {
	if d == nil {
		return nil, sinks.Permanent(sinks.ReasonTemplate, errors.New("the delivery has no message: re-render it"))
	}
	var m Message
	if err := d.Message.Decode(&m); err != nil {
		return nil, err
	}
	p := &Payload{Text: m.Text}
	if b := bytes.TrimSpace(m.Blocks); len(b) > 0 && !bytes.Equal(b, []byte("null")) {
		p.Blocks = m.Blocks
	}
	if s.set.webAPI {
		p.Channel = s.set.channel
	}
	return p, nil
}
