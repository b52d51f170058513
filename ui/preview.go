package ui

import (
	"encoding/json"
	"log/slog"
	"slices"
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
// returns (slack: text, blocks; webhook: method, URL, headers, body; email: from, to, subject, text).
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
	// Shown fields, cut to maxShown.
	HeaderList []header
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
	b, err := json.Marshal(shown)
	if err == nil {
		err = json.Unmarshal(b, &m)
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
	for k, v := range m.Headers {
		m.HeaderList = append(m.HeaderList, header{k, mask(v)})
	}
	slices.SortFunc(m.HeaderList, func(a, b header) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
}
