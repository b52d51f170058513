package twilio_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/registry"
	"github.com/switchboard-relay/switchboard/sinks/twilio"
)

// TestEndToEnd takes a call through a config, its rules and the registry to the fake Twilio: the SMS
// goes to the number the call names, with the text rendered from the call (its control characters
// dropped), from the configured sender.
func TestEndToEnd(t *testing.T) {
	apiURL, forms := twilio.StartFakeTwilio(t)
	src := `
sinks:
  reps-sms:
    type: twilio
    account_sid: ` + twilio.TestSID + `
    auth_token: ${TWILIO_AUTH_TOKEN}
    from: "+1 501 712 2661"
    api_url: ` + apiURL + `
rules:
  - name: hot-leads
    actions:
      - sink: reps-sms
        to: "{{ input_variables.rep_phone }}"
        text: "Hot lead: {{ input_variables.customer_name }} ({{ customer_phone }})"
`
	env := func(name string) (string, bool) { return twilio.TestToken, name == "TWILIO_AUTH_TOKEN" }
	cfg, err := config.Parse("switchboard.yaml", []byte(src), env)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if conf := cfg.Sink("reps-sms"); conf.RateLimit.String() != "1/s" {
		t.Errorf("rate_limit = %v, want twilio's default 1/s", conf.RateLimit)
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	c, err := call.Decode([]byte(`{"id": 7, "status": "completed", "customer_phone": "+15551234567",
		"input_variables": {"customer_name": "Jane\tDoe\u001b", "rep_phone": "+1 (555) 867-5310"}}`))
	if err != nil {
		t.Fatal(err)
	}
	res := rs.Evaluate(c)
	if len(res.Actions) != 1 || res.Actions[0].Err != nil {
		t.Fatalf("actions = %+v, want one rendered", res.Actions)
	}
	s, err := registry.New(cfg.Sink("reps-sms"), registry.Options{})
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	a := res.Actions[0]
	if err := s.Send(context.Background(), &sinks.Delivery{CallID: 7, Rule: a.Rule, Action: a.Index, Attempt: 1, Message: a.Message}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := forms()
	if len(got) != 1 {
		t.Fatalf("Twilio got %d requests, want 1", len(got))
	}
	want := map[string]string{"To": "+15558675310", "From": "+15017122661", "Body": "Hot lead: Jane Doe (+15551234567)"}
	for k, v := range want {
		if got[0].Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, got[0].Get(k), v)
		}
	}
}

// TestConfigErrors checks what `check` reports about a twilio sink and its actions, each at its line.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, sink, action string
		want               []string
	}{
		{"neither from nor messaging_service_sid", "", "to: \"+15558675310\"\n        text: hi",
			[]string{`f.yaml:3: sinks.sms: missing required key "from" (set from (the sender) or messaging_service_sid (a Messaging Service that picks it))`}},
		{"both from and messaging_service_sid", "from: \"+15017122661\"\n    messaging_service_sid: MG0123456789abcdef0123456789abcdef", "to: \"+15558675310\"\n        text: hi",
			[]string{`f.yaml:8: sinks.sms.messaging_service_sid: set either from or messaging_service_sid, not both`}},
		{"a national from", "from: \"5017122661\"", "to: \"+15558675310\"\n        text: hi",
			[]string{`f.yaml:7: sinks.sms.from: is neither a short code`}},
		{"an action without to and text", "from: Acme", "# no to, no text",
			[]string{`missing required key "to"`, `missing required key "text"`}},
		{"a to written without a country code", "from: Acme", "to: \"555 867 5310\"\n        text: hi",
			[]string{`f.yaml:12: rules[0].actions[0].to: must be a phone number in E.164 such as "+15558675310": it does not start with + and a country code`}},
		{"an email key in a twilio action", "from: Acme", "to: \"+15558675310\"\n        text: hi\n        subject: hi",
			[]string{`rules[0].actions[0].subject: not used by twilio sinks (they take: to, text)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `
sinks:
  sms:
    type: twilio
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: secret-token-value
    ` + tt.sink + `
rules:
  - name: r
    actions:
      - sink: sms
        ` + tt.action + `
`
			_, err := config.Parse("f.yaml", []byte(src), nil)
			if err == nil {
				t.Fatal("Parse() = nil error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse() = %v\nwant it to contain %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret-token-value") {
				t.Errorf("Parse() error shows the auth token: %v", err)
			}
		})
	}
}
