package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
)

// authToken is the webhook token every test relay requires; it must never be logged.
const authToken = "e2e-webhook-token-0123456789"

// ruleName is the rule every test config has; its actions are 0: slack, 1: crm.
const ruleName = "every-call"

// Settings shared by every test relay, chosen so that the whole package stays fast: short backoffs,
// a lease of 3s so a killed process's in-flight deliveries are retried soon, and 2s sink timeouts
// (shorter than the lease, as the config requires).
const (
	testLease       = "3s"
	testSinkTimeout = "2s"
	// testConcurrency is defaults.concurrency: deliveries in flight per sink per process.
	testConcurrency = 4
	// testSinks is how many sinks every test config has.
	testSinks = 2
)

// relayConfig describes one test config. Zero fields take the defaults noted.
type relayConfig struct {
	Listen string
	// SQLitePath is the database file; used unless PostgresDSN is set.
	SQLitePath  string
	PostgresDSN string
	SlackURL    string
	CRMURL      string
	// MaxAttempts is defaults.retry.max_attempts; default 50.
	MaxAttempts int
	// SlackText is the Slack action's text; default "call {{ id }} ended {{ status }}". The fake
	// Slack finds the call id in it, so it must contain "call {{ id }}".
	SlackText string
	// HoldAfter and ProbeInterval, when set, are defaults.hold_after and defaults.probe_interval.
	HoldAfter, ProbeInterval string
	// MaxAge is defaults.retry.max_age; default 1h.
	MaxAge string
	// Broken, when set, is appended to the config to make it invalid.
	Broken string
	// OpsURL, when set, adds a third sink "ops" (a Slack incoming webhook at this URL) and a notify
	// section telling it of dead deliveries, grouped for GroupWait (default 2s).
	OpsURL    string
	GroupWait string
	// SinkDown, with OpsURL, also tells "ops" when a sink is held and when it recovers.
	SinkDown bool
	// LogLevel is log.level; default info.
	LogLevel string
}

var configTemplate = template.Must(template.New("config").Parse(`# Written by the e2e tests.
server:
  listen: "{{ .Listen }}"
  auth:
    token: "` + authToken + `"
storage:
{{- if .PostgresDSN }}
  driver: postgres
  dsn: "{{ .PostgresDSN }}"
{{- else }}
  driver: sqlite
  path: "{{ .SQLitePath }}"
{{- end }}
  lease: ` + testLease + `
log:
  level: {{ .LogLevel }}
sinks:
  slack:
    type: slack
    webhook_url: "{{ .SlackURL }}"
    rate_limit: 10000/s
    timeout: ` + testSinkTimeout + `
  crm:
    type: webhook
    url: "{{ .CRMURL }}"
    timeout: ` + testSinkTimeout + `
{{- if .OpsURL }}
  ops:
    type: slack
    webhook_url: "{{ .OpsURL }}"
    rate_limit: 10000/s
    timeout: ` + testSinkTimeout + `
notify:
  dead_letters:
    sink: ops
    group_wait: {{ .GroupWait }}
{{- if .SinkDown }}
  sink_down:
    sink: ops
{{- end }}
{{- end }}
defaults:
  retry: { max_attempts: {{ .MaxAttempts }}, initial_backoff: 50ms, max_backoff: 500ms, max_age: {{ .MaxAge }} }
  concurrency: {{ .Concurrency }}
{{- if .HoldAfter }}
  hold_after: {{ .HoldAfter }}
{{- end }}
{{- if .ProbeInterval }}
  probe_interval: {{ .ProbeInterval }}
{{- end }}
rules:
  - name: ` + ruleName + `
    when: id > 0
    actions:
      - sink: slack
        text: {{ .SlackText }}
      - sink: crm
        body:
          call_id: "{{ "{{" }} id {{ "}}" }}"
          status: "{{ "{{" }} status {{ "}}" }}"
          phone: "{{ "{{" }} customer_phone ?? \"unknown\" {{ "}}" }}"
{{ .Broken }}
`))

// render returns the YAML of c.
func (c relayConfig) render(t *testing.T) string {
	t.Helper()
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 50
	}
	if c.MaxAge == "" {
		c.MaxAge = "1h"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.GroupWait == "" {
		c.GroupWait = "2s"
	}
	if c.SlackText == "" {
		c.SlackText = "call {{ id }} ended {{ status }}"
	}
	data := struct {
		relayConfig
		Concurrency int
	}{c, testConcurrency}
	data.SlackText = strconv.Quote(c.SlackText)
	var sb strings.Builder
	if err := configTemplate.Execute(&sb, data); err != nil {
		t.Fatalf("render config: %v", err)
	}
	return sb.String()
}

// write renders c into path.
func (c relayConfig) write(t *testing.T, path string) {
	t.Helper()
	mustWrite(t, path, c.render(t))
}

// sqliteSetup is a relay config on a fresh SQLite file in t.TempDir(), written to its config file.
type sqliteSetup struct {
	cfg        relayConfig
	configPath string
	slack, crm *receiver
}

// newSQLiteSetup starts the fake receivers and writes a config for one relay on SQLite.
func newSQLiteSetup(t *testing.T) *sqliteSetup {
	t.Helper()
	dir := t.TempDir()
	s := &sqliteSetup{slack: newSlack(t), crm: newCRM(t), configPath: filepath.Join(dir, "switchboard.yaml")}
	s.cfg = relayConfig{
		Listen: freeAddr(t), SQLitePath: filepath.Join(dir, "switchboard.db"),
		SlackURL: s.slack.url(), CRMURL: s.crm.url(),
	}
	s.cfg.write(t, s.configPath)
	return s
}

// start starts a relay on the setup's config.
func (s *sqliteSetup) start(t *testing.T, name string) *relay {
	t.Helper()
	return startRelay(t, name, s.configPath, s.cfg.Listen)
}

// secrets are the values a relay of this setup must never log.
func (s *sqliteSetup) secrets() []string {
	return []string{authToken, slackSecretPath, strings.TrimPrefix(slackSecretPath, "/services/")}
}

// slackKey and crmKey are the fake receivers' keys of a call's two deliveries.
func slackKey(id int64) string { return strconv.FormatInt(id, 10) }
func crmKey(id int64) string   { return strconv.FormatInt(id, 10) + "-" + ruleName + "-1" }

// keysOf returns the slack and crm keys of ids.
func keysOf(ids []int64) (slack, crm []string) {
	for _, id := range ids {
		slack = append(slack, slackKey(id))
		crm = append(crm, crmKey(id))
	}
	return slack, crm
}
