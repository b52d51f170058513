package logsink

import (
	"encoding/json"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/slack"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Spec declares the log sink type. It accepts the config keys and action keys of every type
// (AcceptsAll); its own text is escaped as Slack's is, so that a log sink standing in for a Slack
// sink logs what Slack would be sent.
var Spec = &spec.Descriptor{
	Type:       "log",
	Doc:        "writes each message to Switchboard's log instead of sending it",
	AcceptsAll: true,
	ActionKeys: []spec.ActionKey{
		{Name: "text", Kind: spec.ActionTemplate, Escape: slack.Escape, Doc: "text, escaped as a Slack text is"},
	},
	Decode: func(spec.Values) (any, []spec.Problem) { return nil, nil },
	New: func(name string, _ any, opts spec.Options) (sinks.Sink, error) {
		return New(name, opts.Logger), nil
	},
	Notice: func(n spec.Notice) (sinks.Message, error) {
		return json.Marshal(struct {
			Text string   `json:"text,omitempty"`
			To   []string `json:"to,omitempty"`
		}{n.Text, n.To})
	},
	TestMark: "text",
}
