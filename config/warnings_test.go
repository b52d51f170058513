package config

import (
	"strings"
	"testing"
)

// TestEmptySecretWarnings checks the warning about a ${VAR} that leaves a sink's secret empty, or
// part of it: exact messages, only for secrets of sinks that send, and never an error.
func TestEmptySecretWarnings(t *testing.T) {
	const sinks = `sinks:
  crm:
    type: ${CRM_TYPE:-webhook}
    url: https://crm.example.com/${CRM_PATH:-}
    headers: {Authorization: "Bearer ${CRM_TOKEN}", X-Plain: "${PLAIN:-}"}
    signing_secret: ${CRM_SIGNING:-}
  hook:
    type: ${HOOK_TYPE:-slack}
    webhook_url: https://hooks.slack.com/services/${SLACK_PATH}
  api:
    type: slack
    token: "xoxb-${SLACK_TOKEN:-}"
    channel: "#ops"
  mail:
    type: email
    smtp: {host: smtp.example.com, username: relay, password: "pw${SMTP_PASSWORD}"}
    from: relay@example.com
`
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "every secret-bearing value", env: map[string]string{"CRM_TOKEN": "", "SLACK_PATH": "", "SMTP_PASSWORD": ""}, want: []string{
			`4: sinks.crm.url: warning: ${CRM_PATH:-} expands to an empty string (set CRM_PATH, or take the reference out of this secret)`,
			`5: sinks.crm.headers.Authorization: warning: ${CRM_TOKEN} expands to an empty string (set CRM_TOKEN, or take the reference out of this secret)`,
			`5: sinks.crm.headers.X-Plain: warning: ${PLAIN:-} expands to an empty string (set PLAIN, or take the reference out of this secret)`,
			`6: sinks.crm.signing_secret: warning: ${CRM_SIGNING:-} expands to an empty string (set CRM_SIGNING, or take the reference out of this secret)`,
			`9: sinks.hook.webhook_url: warning: ${SLACK_PATH} expands to an empty string (set SLACK_PATH, or take the reference out of this secret)`,
			`12: sinks.api.token: warning: ${SLACK_TOKEN:-} expands to an empty string (set SLACK_TOKEN, or take the reference out of this secret)`,
			`16: sinks.mail.smtp.password: warning: ${SMTP_PASSWORD} expands to an empty string (set SMTP_PASSWORD, or take the reference out of this secret)`,
		}},
		{name: "all set", env: map[string]string{"CRM_PATH": "p", "CRM_TOKEN": "t", "PLAIN": "x", "CRM_SIGNING": "s",
			"SLACK_PATH": "T/B/X", "SLACK_TOKEN": "1", "SMTP_PASSWORD": "2"}},
		{name: "log sinks are quiet", env: map[string]string{"CRM_TYPE": "log", "HOOK_TYPE": "log", "CRM_TOKEN": "", "SLACK_PATH": "", "SLACK_TOKEN": "1", "SMTP_PASSWORD": "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f.yaml", []byte(sinks), mapEnv(tt.env))
			if err != nil {
				t.Fatalf("Parse: %v (a warning must never be an error)", err)
			}
			var got []string
			for _, w := range cfg.Warnings {
				if !w.Warning {
					t.Errorf("warning %q has Warning unset", w.Error())
				}
				got = append(got, strings.TrimPrefix(w.Error(), "f.yaml:"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("warnings:\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestNoWarningsOutsideSinkSecrets checks that an empty ${VAR} is not a warning where it is not a
// sink's secret: server tokens (serve warns about a missing auth token on its own), plain values,
// and the example config on a first run.
func TestNoWarningsOutsideSinkSecrets(t *testing.T) {
	src := `server:
  auth: {token: "${SWITCHBOARD_TOKEN:-}"}
  admin_token: ${ADMIN:-}
sinks:
  mail:
    type: email
    smtp: {host: "smtp${DOMAIN:-}.example.com"}
    from: relay@example.com
rules:
  - name: r
    actions: [{sink: mail, to: [a@example.com], subject: "x${EMPTY}", text: hi}]
`
	cfg, err := Parse("f.yaml", []byte(src), mapEnv(map[string]string{"EMPTY": ""}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %v, want none", cfg.Warnings)
	}
}
