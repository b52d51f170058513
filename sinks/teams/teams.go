// Package teams is the Microsoft Teams sink: it posts an Adaptive Card to a channel through a Teams
// incoming webhook, either a Workflows webhook ("When a Teams webhook request is received") or a
// legacy Office 365 connector, and classifies both kinds of answer as docs/sinks.md, "type: teams",
// records them.
package teams

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Spec declares the teams sink type.
var Spec = &spec.Descriptor{
	Type: "teams",
	Doc:  "posts an Adaptive Card to a Microsoft Teams channel through its incoming webhook (Workflows or a legacy connector)",
	Keys: []spec.Key{
		{Name: "webhook_url", Kind: spec.KindSecretURL, Required: true,
			Doc: "**secret**; the channel's incoming webhook URL: a Workflows \"When a Teams webhook request is received\" URL, or a legacy connector URL `https://….webhook.office.com/webhookb2/…`"},
		{Name: "timeout", Kind: spec.KindDuration, Default: httpsink.DefaultTimeout.String(), Timeout: true,
			Doc: "time allowed for one attempt"},
	},
	ActionKeys: []spec.ActionKey{
		{Name: "text", Kind: spec.ActionTemplate, Required: true, Escape: Escape,
			Doc: "the card's text (Teams markdown); values from the call are escaped"},
		{Name: "title", Kind: spec.ActionTemplate, Escape: Escape,
			Doc: "a bold title above the text; values from the call are escaped"},
		{Name: "facts", Kind: spec.ActionTemplateMap, Escape: Escape,
			Doc: "names and values shown as a fact list below the text, in the order written; values from the call are escaped"},
	},
	// Teams throttles an incoming webhook above four requests a second.
	DefaultRate: "4/s",
	Decode: func(v spec.Values) (any, []spec.Problem) {
		return &Settings{WebhookURL: v.Secret("webhook_url"), Timeout: v.Duration("timeout")}, nil
	},
	New:      spec.Construct(New),
	Notice:   notice,
	TestMark: "text",
}

// Settings are a teams sink's config.
type Settings struct {
	WebhookURL spec.Secret
	Timeout    time.Duration // default 10s
}

// Sink posts to one Teams webhook. It is safe for concurrent use.
type Sink struct {
	url    string
	client *httpsink.Client
}

// New returns the sink named name. A nil logger discards. Errors are *sinks.Error with reason config;
// they name the config key at fault, never its value.
func New(name string, set *Settings, logger *slog.Logger) (*Sink, error) {
	return newSink(name, set, logger, httpsink.Options{})
}

// newSink is New with transport options, so tests can shorten the in-request backoff.
func newSink(name string, set *Settings, logger *slog.Logger, opts httpsink.Options) (*Sink, error) {
	if set == nil || set.WebhookURL == "" {
		return nil, sinks.Permanent(sinks.ReasonConfig, errors.New("teams sink has no webhook_url: set it to the channel's webhook URL"))
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	raw := string(set.WebhookURL)
	opts.Logger = logger.With("sink", name)
	opts.Timeout = set.Timeout
	opts.Redactor = sinks.NewRedactor([]string{raw}, urlSecrets(raw)...)
	opts.Interpret = interpret
	return &Sink{url: raw, client: httpsink.New(opts)}, nil
}

// urlSecrets returns the parts of a webhook URL that an answer might echo on their own: each path
// segment and query value long enough to be an id or a signature (a Workflows URL's sig, a legacy
// connector's GUIDs). The Redactor hides them besides the whole URL.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 8 {
			out = append(out, seg)
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	return out
}

// Send posts d's card once (with the transport's quick in-request retries). It returns nil only when
// Teams accepted it.
func (s *Sink) Send(ctx context.Context, d *sinks.Delivery) error {
	header, body, err := s.request(d)
	if err != nil {
		return err
	}
	_, err = s.client.Do(ctx, &httpsink.Request{Method: http.MethodPost, URL: s.url, Header: header, Body: body})
	return err
}

// Preview returns the request Send would make for d. It sends nothing.
func (s *Sink) Preview(d *sinks.Delivery) (any, error) {
	header, body, err := s.request(d)
	if err != nil {
		return nil, err
	}
	p := &httpsink.PreviewRequest{Method: http.MethodPost, URL: sinks.Redacted, Headers: map[string]string{}, Body: body}
	for name := range header {
		p.Headers[name] = header.Get(name)
	}
	return p, nil
}

// request returns the headers and body of d's request.
func (s *Sink) request(d *sinks.Delivery) (http.Header, []byte, error) {
	m, err := decodeMessage(d)
	if err != nil {
		return nil, nil, err
	}
	body, err := encode(m)
	if err != nil {
		return nil, nil, err
	}
	// Teams ignores Idempotency-Key, but a proxy in front of it can drop repeats by it. charset=utf-8
	// is what Teams asks of a REST client for emoji to show.
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "User-Agent": {"Switchboard"},
		"Idempotency-Key": {d.IdempotencyKey()}}
	return header, body, nil
}

// decodeMessage reads d's rendered message as a teams Message.
func decodeMessage(d *sinks.Delivery) (*Message, error) {
	if d == nil {
		return nil, errTemplate("the delivery has no message: re-render it")
	}
	var m Message
	if err := d.Message.Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// notice renders a notification as a teams message; see noticeMessage.
func notice(n spec.Notice) (sinks.Message, error) {
	m := noticeMessage(n.Subject, n.Text)
	if n.Markup {
		// A notify.dead_letters.text template: its values are escaped already, its text is markdown.
		m.Text = n.Text
	}
	return json.Marshal(m)
}

// errTemplate is a permanent failure of the message itself: rendering it again differently is the
// only fix.
func errTemplate(msg string) *sinks.Error {
	return sinks.Permanent(sinks.ReasonTemplate, errors.New(msg))
}
