package main

import (
	"strings"
	"testing"
)

// TestCheckWarnings checks that warnings print like problems, with "warning:", and that only problems
// make check exit 1.
func TestCheckWarnings(t *testing.T) {
	t.Setenv("CRM_TOKEN", "")
	const sink = `sinks:
  crm:
    type: webhook
    url: https://crm.example.com/hook
    headers: {Authorization: "Bearer ${CRM_TOKEN}"}
`
	const warning = `:5: sinks.crm.headers.Authorization: warning: ${CRM_TOKEN} expands to an empty string (set CRM_TOKEN, or take the reference out of this secret)`
	warnOnly := writeFile(t, "warn.yaml", sink+"rules:\n  - name: r\n    actions: [{sink: crm}]\n")
	both := writeFile(t, "both.yaml", sink+"rules:\n  - name: r\n    actions: [{sink: nope}]\n")
	tests := []struct {
		name       string
		config     string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{name: "only warnings exit 0", config: warnOnly, wantCode: 0, wantStdout: []string{
			warnOnly + warning,
			warnOnly + ": ok: 1 rule(s), 1 sink(s) (1 webhook), storage sqlite, 1 warning(s)",
		}},
		{name: "problems and warnings exit 1", config: both, wantCode: 1, wantStdout: []string{
			both + warning,
			both + `:8: rules[0].actions[0].sink: undefined sink "nope" (defined: "crm")`,
		}, wantStderr: both + ": 1 problem(s), 1 warning(s)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "check", "--config", tt.config)
			if want := strings.Join(tt.wantStdout, "\n") + "\n"; code != tt.wantCode || out != want || errOut != tt.wantStderr {
				t.Errorf("exit %d\nstdout:\n%s\nstderr: %q\nwant exit %d\nstdout:\n%s\nstderr: %q", code, out, errOut, tt.wantCode, want, tt.wantStderr)
			}
		})
	}
}
