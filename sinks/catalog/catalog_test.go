package catalog_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/registry"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// pager is a sink type declared only by its descriptor, as a new sink package would: the test adds it
// to the catalog and checks that config, rules, the registry and a send all take it.
type pager struct {
	settings pagerSettings
	sent     chan pagerMessage
}

type pagerSettings struct {
	Token  spec.Secret
	Number string
	Level  string
}

type pagerMessage struct {
	To   string            `json:"to"`
	Text string            `json:"text"`
	Tags map[string]string `json:"tags"`
}

func (p *pager) Send(_ context.Context, d *sinks.Delivery) error {
	var m pagerMessage
	if err := d.Message.Decode(&m); err != nil {
		return err
	}
	p.sent <- m
	return nil
}

func (p *pager) Preview(d *sinks.Delivery) (any, error) { return d.Message, nil }

// shout escapes a value from a call for the pager: upper case, so a test sees that it ran.
func shout(dst []byte, s string) []byte { return append(dst, strings.ToUpper(s)...) }

func pagerSpec(sent chan pagerMessage) *spec.Descriptor {
	return &spec.Descriptor{
		Type: "pager",
		Keys: []spec.Key{
			{Name: "token", Kind: spec.KindSecret, Required: true},
			{Name: "number", Kind: spec.KindString},
			{Name: "level", Kind: spec.KindEnum, Enum: []string{"low", "high"}, Default: "low"},
		},
		ActionKeys: []spec.ActionKey{
			{Name: "to", Kind: spec.ActionTemplate, Required: true},
			{Name: "text", Kind: spec.ActionTemplate, Escape: shout},
			{Name: "tags", Kind: spec.ActionTemplateMap},
		},
		Decode: func(v spec.Values) (any, []spec.Problem) {
			s := &pagerSettings{Token: v.Secret("token"), Number: v.String("number"), Level: v.String("level")}
			if s.Level == "high" && s.Number == "" {
				return s, []spec.Problem{{Key: "number", Missing: true, Msg: "a high level needs a number"}}
			}
			return s, nil
		},
		New: func(name string, settings any, _ spec.Options) (sinks.Sink, error) {
			return &pager{settings: *settings.(*pagerSettings), sent: sent}, nil
		},
		Notice: func(n spec.Notice) (sinks.Message, error) { return json.Marshal(pagerMessage{Text: n.Text}) },
	}
}

// withType adds d to the catalog for the test.
func withType(t *testing.T, d *spec.Descriptor) {
	saved := catalog.Types
	catalog.Types = append(slices.Clip(saved), d)
	t.Cleanup(func() { catalog.Types = saved })
}

func TestNewTypeEndToEnd(t *testing.T) {
	sent := make(chan pagerMessage, 1)
	withType(t, pagerSpec(sent))
	src := `
sinks:
  oncall: {type: pager, token: "${PAGER_TOKEN}", number: "+15550001"}
  audit: {type: log, token: ignored}
rules:
  - name: all
    actions:
      - sink: oncall
        to: "{{ customer_phone }}"
        text: "call {{ status }}"
        tags: {id: "{{ id }}", kind: lead}
      - sink: audit
        to: "{{ customer_phone }}"
        tags: {id: "{{ id }}"}
`
	cfg, err := config.Parse("f.yaml", []byte(src), func(string) (string, bool) { return "s3cret", true })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := cfg.Sink("oncall").Settings.(*pagerSettings); got.Level != "low" || string(got.Token) != "s3cret" {
		t.Errorf("settings = %+v, want the default level and the token", got)
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	c, err := call.Decode([]byte(`{"id": 7, "status": "completed", "customer_phone": "+15551234"}`))
	if err != nil {
		t.Fatal(err)
	}
	res := rs.Evaluate(c)
	if len(res.Actions) != 2 || res.Actions[0].Err != nil || res.Actions[1].Err != nil {
		t.Fatalf("actions = %+v, want two rendered", res.Actions)
	}
	// The log takes the new type's keys; to is email's list of addresses there, the more general kind.
	if got, want := string(res.Actions[1].Message), `{"to":["+15551234"],"tags":{"id":"7"}}`; got != want {
		t.Errorf("log message = %s, want %s", got, want)
	}
	s, err := registry.New(cfg.Sink("oncall"), registry.Options{})
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	a := res.Actions[0]
	if err := s.Send(context.Background(), &sinks.Delivery{CallID: 7, Rule: a.Rule, Action: a.Index, Attempt: 1, Message: a.Message}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := <-sent
	if got.To != "+15551234" || got.Text != "call COMPLETED" || got.Tags["id"] != "7" || got.Tags["kind"] != "lead" {
		t.Errorf("sent %+v, want to, text (escaped by the type) and tags", got)
	}
}

func TestNewTypeConfigErrors(t *testing.T) {
	withType(t, pagerSpec(nil))
	src := `
sinks:
  oncall: {type: pager, level: high, url: https://x.example}
rules:
  - name: all
    actions:
      - sink: oncall
        subject: hi
`
	_, err := config.Parse("f.yaml", []byte(src), nil)
	want := []string{
		`f.yaml:3: sinks.oncall: missing required key "token"`,
		`f.yaml:3: sinks.oncall: missing required key "number" (a high level needs a number)`,
		`f.yaml:3: sinks.oncall.url: not used by pager sinks (they take: type, rate_limit, retry, concurrency, hold_after, probe_interval, token, number, level)`,
		`f.yaml:8: rules[0].actions[0].subject: not used by pager sinks (they take: to, text, tags)`,
		`f.yaml:7: rules[0].actions[0]: missing required key "to"`,
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Parse error = %v\nwant it to contain %s", err, w)
		}
	}
}
