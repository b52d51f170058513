package ui

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/registry"
)

// previewCache holds the sinks built from the configuration in force, used only for Preview (what a
// message looks like when sent, secrets redacted); it is rebuilt when the configuration changes.
type previewCache struct {
	mu    sync.Mutex
	cfg   *config.Config
	sinks map[string]sinks.Sink
}

// get returns the sink named name of cfg, or nil when it is not configured or cannot be built.
func (p *previewCache) get(cfg *config.Config, name string) sinks.Sink {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg != cfg {
		p.cfg, p.sinks = cfg, map[string]sinks.Sink{}
	}
	if s, ok := p.sinks[name]; ok {
		return s
	}
	var s sinks.Sink
	if sc := cfg.Sink(name); sc != nil {
		s, _ = registry.New(sc, registry.Options{Logger: slog.New(slog.DiscardHandler)})
	}
	p.sinks[name] = s
	return s
}

// message is a rendered message as the console shows it: the union of what each sink's Preview
// returns (slack: text, blocks; an HTTP request such as a webhook's or Teams': method, URL, headers,
// body; twilio's: method, URL, auth, form; email: from, to, subject, text). The page shows a request
// by its shape (a method), not by the sink's type, so a new HTTP sink type needs nothing here.
type message struct {
	Kind    string
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	Channel string            `json:"channel"`
	Text    string            `json:"text"`
	Blocks  json.RawMessage   `json:"blocks"`
	From    string            `json:"from"`
	To      []string          `json:"to"`
	Cc      []string          `json:"cc"`
	Subject string            `json:"subject"`
	HTML    string            `json:"html"`
	Auth    string            `json:"auth"`
	Form    map[string]string `json:"form"`
	// Shown fields, cut to maxShown.
	HeaderList []header
	// FormList is Form (and Auth) sorted by name.
	FormList   []header
	BodyText   string
	BlocksText string
	TextShown  string
	Cut        bool
	// Error is why the message could not be shown.
	Error string
}

type header struct{ Name, Value string }

// renderMessage shows a stored message as its sink would send it, through the sink's Preview when
// the sink is still configured, else as stored.
func (c *Console) renderMessage(cfg *config.Config, sinkName, rule string, action int, callID int64, stored []byte) message {
	var m message
	if sc := cfg.Sink(sinkName); sc != nil {
		m.Kind = sc.Type
	}
	if len(stored) == 0 || !json.Valid(stored) {
		m.Error = "no message was stored (it could not be rendered)"
		return m
	}
	msg := sinks.Message(stored)
	var shown any = msg
	if s := c.previews.get(cfg, sinkName); s != nil {
		if p, err := s.Preview(&sinks.Delivery{CallID: callID, Rule: rule, Action: action, Attempt: 1, Message: msg}); err == nil {
			shown = p
		}
	}
	// Without HTML escaping: the page escapes what it shows, and "\u003c" would show as such.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(shown)
	if err == nil {
		err = json.Unmarshal(b.Bytes(), &m)
	}
	if err != nil {
		m.Error = "the message could not be shown: " + err.Error()
		return m
	}
	m.finish(c.maskText)
	return m
}

// finish fills the shown fields, masking phone numbers with mask.
func (m *message) finish(mask func(string) string) {
	var cut1, cut2, cut3 bool
	m.BodyText, cut1 = cut(mask(pretty(m.Body)), maxShown)
	m.BlocksText, cut2 = cut(mask(pretty(m.Blocks)), maxShown)
	m.TextShown, cut3 = cut(mask(m.Text), maxShown)
	m.Cut = cut1 || cut2 || cut3
	m.Subject, m.URL = mask(m.Subject), mask(m.URL)
	for i := range m.To {
		m.To[i] = mask(m.To[i])
	}
	m.HeaderList = sortedFields(m.Headers, mask)
	m.FormList = sortedFields(m.Form, mask)
	if m.Auth != "" {
		m.FormList = append(m.FormList, header{"(basic auth)", m.Auth})
	}
}

// sortedFields returns fields sorted by name, each value masked with mask.
func sortedFields(fields map[string]string, mask func(string) string) []header {
	var out []header
	for k, v := range fields {
		out = append(out, header{k, mask(v)})
	}
	slices.SortFunc(out, func(a, b header) int { return strings.Compare(a.Name, b.Name) })
	return out
}
