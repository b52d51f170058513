package rules

import (
	"encoding/json"
	"errors"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks/email"
	"github.com/switchboard-relay/switchboard/sinks/slack"
	"github.com/switchboard-relay/switchboard/sinks/webhook"
)

// FuzzTemplate compiles arbitrary template text as a Slack text and as a webhook body string and
// renders it: compile either succeeds or reports config errors, rendering never panics, and a body
// that renders is valid JSON.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"hi", "{{ id }}", "{{ customer_phone ?? \"}}\" }}", "{{ {\"a\": 1}[\"a\"] }}", "{{", "}}",
		"{{ lead.x + 1 }}", "{{ extracted_variables }}", "{{ duration / 0 }}", "a {{ `}}` }} b", "{{ 'x\\'}}' }}",
		"{{ transcript[0] }}", "{{ input_variables.name }} <!here>", "\xff{{ id }}\u2028"} {
		f.Add(s)
	}
	c := mustDecodeString(f, `{"id": 1, "customer_phone": "<!channel>", "duration": 5,
		"extracted_variables": {"a": [1, "x", {"b": null}], "f": 0.25},
		"input_variables": {"name": "Eve \r\n & <x>"}, "transcript": [{"text": "hi", "sender": "human", "timestamp": 1}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		cfg := &config.Config{
			File: "fuzz.yaml",
			Sinks: []*config.Sink{{Name: "slack", Type: "slack", Spec: slack.Spec}, {Name: "crm", Type: "webhook", Spec: webhook.Spec},
				{Name: "mail", Type: "email", Spec: email.Spec}},
			Rules: []*config.Rule{{Name: "r", Actions: []*config.Action{
				act{Sink: "slack", Text: config.Template{Text: text, Line: 1}}.action(),
				act{Sink: "crm", Body: &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
					{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"},
					{Kind: yaml.ScalarNode, Tag: "!!str", Value: text, Line: 2},
				}}}.action(),
				act{Sink: "mail", Subject: config.Template{Text: text, Line: 3}}.action(),
			}}},
		}
		rs, err := Compile(cfg)
		if err != nil {
			var errs config.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Compile(%q) error = %v, want config.Errors", text, err)
			}
			return
		}
		res := rs.Evaluate(c)
		if len(res.Actions) != 3 {
			t.Fatalf("Evaluate(%q) gave %d actions, want 3", text, len(res.Actions))
		}
		if a := res.Actions[1]; a.Err == nil && !json.Valid(decoded(a.Message).Body) {
			t.Errorf("body for %q is not valid JSON: %s", text, decoded(a.Message).Body)
		}
	})
}
