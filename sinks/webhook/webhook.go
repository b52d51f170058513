// Package webhook is the generic HTTP webhook sink, for CRMs and anything else that takes JSON: it
// sends the rendered body with the delivery's Idempotency-Key and, when configured, a Standard
// Webhooks signature.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
)

// Sink sends to one webhook URL. It is safe for concurrent use.
type Sink struct {
	name   string
	set    settings
	client *httpsink.Client
	now    func() time.Time
}

// PreviewRequest is what Preview returns: the request Send would make, with the URL's path and query,
// every configured header value and the signature shown as "<secret>".
type PreviewRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
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
	opts.Logger = logger.With("sink", name)
	opts.Timeout = set.timeout
	opts.Redactor = sinks.NewRedactor([]string{set.url}, set.secrets...)
	return &Sink{name: name, set: set, client: httpsink.New(opts), now: time.Now}, nil
}

// Send makes the request once (with the transport's quick in-request retries). Any 2xx is delivered.
func (s *Sink) Send(ctx context.Context, d *sinks.Delivery) error {
	header, body, err := s.build(d)
	if err != nil {
		return err
	}
	_, err = s.client.Do(ctx, &httpsink.Request{Method: s.set.method, URL: s.set.url, Header: header, Body: body})
	return err
}

// Preview returns the PreviewRequest for d. It sends nothing.
func (s *Sink) Preview(d *sinks.Delivery) (any, error) {
	header, body, err := s.build(d)
	if err != nil {
		return nil, err
	}
	p := &PreviewRequest{Method: s.set.method, URL: sinks.RedactURL(s.set.url), Headers: map[string]string{}}
	for name := range header {
		v := header.Get(name)
		if _, secret := s.set.headers[name]; secret || name == "Webhook-Signature" {
			v = sinks.Redacted
		}
		p.Headers[name] = v
	}
	switch {
	case len(body) == 0:
	case json.Valid(body):
		p.Body = body
	default:
		// Not JSON (a hand-written store row?): show it as a string rather than fail the preview.
		quoted, err := json.Marshal(string(body))
		if err != nil {
			return nil, sinks.Permanent(sinks.ReasonTemplate, fmt.Errorf("encode body: %w", err))
		}
		p.Body = quoted
	}
	return p, nil
}

// build returns the headers and body of d's request. Headers are set in this order, later winning:
// the message's (rendered from the call), the sink's configured ones (secrets, so a call cannot
// override an Authorization), then Content-Type, User-Agent, Idempotency-Key and the signature.
func (s *Sink) build(d *sinks.Delivery) (http.Header, []byte, error) {
	if d == nil {
		return nil, nil, sinks.Permanent(sinks.ReasonTemplate, errors.New("the delivery has no message: re-render it"))
	}
	var m Message
	if err := d.Message.Decode(&m); err != nil {
		return nil, nil, err
	}
	body := []byte(m.Body)
	header := http.Header{}
	for name, v := range m.Headers {
		if !validName(name) {
			return nil, nil, sinks.Permanent(sinks.ReasonTemplate, fmt.Errorf("header %s is not a valid header name: fix the action's headers", quote(name)))
		}
		header.Set(name, stripCRLF(v))
	}
	for name, vs := range s.set.headers {
		header[name] = vs
	}
	key := d.IdempotencyKey()
	header.Set("Content-Type", "application/json")
	header.Set("User-Agent", "Switchboard")
	header.Set("Idempotency-Key", key)
	if s.set.signKey != nil {
		ts := strconv.FormatInt(s.now().Unix(), 10)
		header.Set("Webhook-Id", key)
		header.Set("Webhook-Timestamp", ts)
		header.Set("Webhook-Signature", "v1,"+Sign(s.set.signKey, key, ts, body))
	}
	return header, body, nil
}

// Sign returns the Standard Webhooks signature (without the "v1," prefix): base64 of HMAC-SHA256 with
// key over "id.timestamp.body".
func Sign(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
