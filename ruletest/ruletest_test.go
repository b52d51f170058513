package ruletest

import (
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
)

// checksConfig has one rule per sink type; each test below appends one test to it.
const checksConfig = `sinks:
  slack: { type: slack, webhook_url: "https://hooks.slack.com/services/T/B/X" }
  crm: { type: webhook, url: "https://crm.example.com/hook" }
  mail: { type: email, smtp: { host: smtp.example.com }, from: relay@example.com }
rules:
  - name: all
    actions:
      - sink: slack
        text: "Lead <{{ customer_phone }}>"
        blocks: [{ type: section, text: { type: mrkdwn, text: "Said: {{ extracted_variables.quote }}" } }]
      - sink: crm
        body: { phone: "{{ customer_phone }}", duration: "{{ duration }}", text_duration: "{{ duration }}s", tags: [a, b] }
      - sink: crm
        body: { second: true }
      - sink: mail
        to: ops@example.com
        subject: "Subject {{ id }}"
        text: "Plain {{ id }}"
        html: "<p>{{ extracted_variables.quote }}</p>"
      - sink: mail
        to: ops@example.com
        subject: "{{ duration + extracted_variables.missing }}"
        text: x
tests:
  - name: t
    call: { id: 7, customer_phone: "+15551234567", duration: 125, extracted_variables: { quote: 'a "b" <c>', zero: 0 } }
    expect:
      actions:
`

func TestChecks(t *testing.T) {
	tests := []struct {
		name   string
		check  string // one expect.actions entry
		wantOK bool
		want   string // in the failure's lines when not ok
	}{
		{"slack text as sent", `{sink: slack, contains: "Lead <+15551234567>"}`, true, ""},
		{"slack blocks, as a string value", `{sink: slack, contains: 'Said: a "b" &lt;c&gt;'}`, true, ""},
		{"slack equals on its fields", `{sink: slack, equals: {text: "Lead <+15551234567>"}}`, true, ""},
		{"webhook body as JSON", `{sink: crm, contains: '"duration":125'}`, true, ""},
		{"webhook equals keeps types", `{sink: crm, equals: {duration: 125, text_duration: "125s", tags: [a, b]}}`, true, ""},
		{"a number is not a string", `{sink: crm, equals: {duration: "125"}}`, false, `duration: "125"`},
		{"a string is not a number", `{sink: crm, equals: {text_duration: 125}}`, false, `text_duration: "125s"`},
		{"any message to the sink may pass", `{sink: crm, equals: {second: true}}`, true, ""},
		{"both checks on one message", `{sink: crm, contains: "+1555", equals: {second: true}}`, false, "other values"},
		{"email subject", `{sink: mail, contains: "Subject 7"}`, true, ""},
		{"email text", `{sink: mail, contains: "Plain 7"}`, true, ""},
		{"email html, escaped", `{sink: mail, contains: "&lt;c&gt;"}`, true, ""},
		{"a render error is shown", `{sink: mail, contains: "nowhere"}`, false, "failed to render"},
		{"text absent", `{sink: slack, contains: "Jane"}`, false, `text "Lead <+15551234567>"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := checksConfig + "        - " + tt.check + "\n"
			cfg, err := config.Parse("c.yaml", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := rules.Compile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := Run(cfg, rs)
			if len(res) != 1 || res[0].OK != tt.wantOK {
				t.Fatalf("results = %+v, want ok %v", res, tt.wantOK)
			}
			if tt.wantOK {
				return
			}
			var out strings.Builder
			Print(&out, res)
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output:\n%s\nwant it to contain %s", out.String(), tt.want)
			}
			if p := Problems(res); len(p) != 1 || p[0].File != "c.yaml" || p[0].Line != 29 || !strings.Contains(p[0].Error(), `test "t" failed`) {
				t.Errorf("problems = %v, want one at c.yaml:29", p)
			}
		})
	}
}
