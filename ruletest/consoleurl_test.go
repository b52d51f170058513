package ruletest

import (
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
)

// TestConsoleURL: a config test sees console_url as serve does: the call's page under
// server.public_url, or nil without it.
func TestConsoleURL(t *testing.T) {
	const src = `sinks:
  out: { type: log }
rules:
  - name: all
    actions: [{ sink: out, text: 'open {{ console_url ?? "nowhere" }}' }]
tests:
  - name: t
    call: { id: 7 }
    expect:
      actions: [{ sink: out, contains: "open https://sb.example.com/ui/calls/7" }]
`
	tests := []struct {
		name, server string
		wantOK       bool
	}{
		{"public_url set", "server: { public_url: https://sb.example.com }\n", true},
		{"public_url not set", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("c.yaml", []byte(tt.server+src), nil)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := rules.Compile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res := Run(cfg, rs); len(res) != 1 || res[0].OK != tt.wantOK {
				t.Errorf("results = %+v, want ok %v", res, tt.wantOK)
			}
		})
	}
}
