package rules

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
)

// TestConsoleURL: console_url is the call's page under server.public_url, or nil without it, the same
// in Evaluate (serve, `switchboard test`, config tests, the console's dry run), RenderFirst (send-test)
// and Explain.
func TestConsoleURL(t *testing.T) {
	const rulesSrc = `
sinks:
  out: { type: log }
  hook: { type: webhook, url: "https://crm.example.com/in" }
rules:
  - name: linked
    when: console_url != nil
    actions:
      - { sink: out, text: 'link={{ console_url ?? "none" }}' }
  - name: always
    actions:
      - { sink: hook, body: { link: "{{ console_url }}" } }
`
	tests := []struct {
		name, server string
		call         string
		matched      []string
		text, body   string // text: the log sink's, "" when the rule does not match
	}{
		{name: "public_url set", server: "server:\n  public_url: https://sb.example.com/\n",
			call: `{"id": 12345, "status": "completed"}`, matched: []string{"linked", "always"},
			text: "link=https://sb.example.com/ui/calls/12345", body: `{"link":"https://sb.example.com/ui/calls/12345"}`},
		{name: "public_url with a path", server: "server:\n  public_url: https://example.com/switchboard\n",
			call: `{"id": 7}`, matched: []string{"linked", "always"},
			text: "link=https://example.com/switchboard/ui/calls/7", body: `{"link":"https://example.com/switchboard/ui/calls/7"}`},
		{name: "public_url not set", call: `{"id": 12345, "status": "completed"}`, matched: []string{"always"},
			body: `{"link":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("c.yaml", []byte(tt.server+rulesSrc), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Compile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := mustDecodeString(t, tt.call)
			res := rs.Evaluate(c)
			if len(res.Errors) != 0 {
				t.Fatalf("Evaluate errors: %v", res.Errors)
			}
			if got, want := len(res.Matched), len(tt.matched); got != want {
				t.Fatalf("matched %q, want %q", res.Matched, tt.matched)
			}
			for i := range tt.matched {
				if res.Matched[i] != tt.matched[i] {
					t.Errorf("matched %q, want %q", res.Matched, tt.matched)
				}
			}
			var text, body string
			for _, a := range res.Actions {
				if a.Err != nil {
					t.Fatalf("%s: %v", a.Sink, a.Err)
				}
				switch a.Sink {
				case "out":
					text = decoded(a.Message).Text
				case "hook":
					body = string(decoded(a.Message).Body)
				}
			}
			if text != tt.text {
				t.Errorf("Evaluate: text = %q, want %q", text, tt.text)
			}
			if !jsonEqual(t, body, tt.body) {
				t.Errorf("Evaluate: body = %s, want %s", body, tt.body)
			}
			first, ok := rs.RenderFirst(c, "out")
			if !ok || first.Err != nil {
				t.Fatalf("RenderFirst = %+v, %v", first, ok)
			}
			wantFirst := tt.text
			if wantFirst == "" {
				wantFirst = "link=none"
			}
			if decoded(first.Message).Text != wantFirst {
				t.Errorf("RenderFirst: text = %q, want %q", decoded(first.Message).Text, wantFirst)
			}
			if v := rs.Explain(c); len(v) != 2 || v[0].Matched != (tt.text != "") {
				t.Errorf("Explain = %+v, want rule linked matched = %v", v, tt.text != "")
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Errorf("%v: %s", err, a)
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
