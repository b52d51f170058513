package rules

import (
	"encoding/json"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// act is an action written with a field per action key of the built-in sink types, for tests.
type act struct {
	Sink                string
	Text, Subject, HTML config.Template
	To, Cc              []config.Template
	Headers             map[string]config.Template
	Blocks, Body        *yaml.Node
}

// action is a as config decodes it.
func (a act) action() *config.Action {
	out := &config.Action{Sink: a.Sink}
	tmpl := func(name string, t config.Template) {
		if t.Text != "" {
			out.Values = append(out.Values, &config.ActionValue{Name: name, Kind: spec.ActionTemplate, Line: t.Line, Template: t})
		}
	}
	list := func(name string, ts []config.Template) {
		if len(ts) > 0 {
			out.Values = append(out.Values, &config.ActionValue{Name: name, Kind: spec.ActionAddresses, Templates: ts})
		}
	}
	tree := func(name string, n *yaml.Node) {
		if n != nil {
			out.Values = append(out.Values, &config.ActionValue{Name: name, Kind: spec.ActionTree, Line: n.Line, Tree: n})
		}
	}
	tmpl("text", a.Text)
	tmpl("subject", a.Subject)
	tmpl("html", a.HTML)
	list("to", a.To)
	list("cc", a.Cc)
	if a.Headers != nil {
		v := &config.ActionValue{Name: "headers", Kind: spec.ActionTemplateMap}
		for name, t := range a.Headers {
			v.Map = append(v.Map, config.MapEntry{Name: name, Template: t})
		}
		out.Values = append(out.Values, v)
	}
	tree("blocks", a.Blocks)
	tree("body", a.Body)
	return out
}

// msg is a rendered message read with a field per action key of the built-in sink types.
type msg struct {
	Text    string            `json:"text,omitempty"`
	Blocks  json.RawMessage   `json:"blocks,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	To      []string          `json:"to,omitempty"`
	Cc      []string          `json:"cc,omitempty"`
	Subject string            `json:"subject,omitempty"`
	HTML    string            `json:"html,omitempty"`
}

// decoded reads m; an empty or unreadable message reads as an empty one.
func decoded(m sinks.Message) *msg {
	var out msg
	_ = m.Decode(&out)
	return &out
}
