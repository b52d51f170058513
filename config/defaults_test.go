package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks/email"
	"github.com/switchboard-relay/switchboard/sinks/slack"
	"github.com/switchboard-relay/switchboard/sinks/webhook"
)

func TestDefaults(t *testing.T) {
	// The default storage path is beside the config file f.yaml, which is in the working directory.
	dbPath, err := filepath.Abs(filepath.Join("data", "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File:    "f.yaml",
		Server:  Server{Listen: ":8080", WebhookPath: "/webhooks/intellixent", MaxBodyBytes: 4 << 20},
		Storage: Storage{Driver: "sqlite", Path: dbPath, Retention: 720 * time.Hour, DeadLetterRetention: 2160 * time.Hour, Lease: 2 * time.Minute},
		Log:     Log{Format: "text", Level: "info"},
		Files:   []string{"f.yaml"},
		Defaults: DeliveryPolicy{
			Retry:       Retry{MaxAttempts: 12, InitialBackoff: 2 * time.Second, MaxBackoff: 10 * time.Minute, MaxAge: 48 * time.Hour},
			Concurrency: 4, HoldAfter: 15 * time.Minute, ProbeInterval: time.Minute,
		},
	}
	tests := []struct {
		name string
		src  string
	}{
		{name: "empty file", src: ""},
		{name: "comments only", src: "# nothing yet\n"},
		{name: "empty mapping", src: "{}\n"},
		{name: "empty sections", src: "server:\nstorage:\nlog:\ndefaults:\nsinks:\nrules:\n"},
		{name: "empty values", src: "server:\n  listen: ${LISTEN:-}\n  auth: {token: \"\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("f.yaml", []byte(tt.src), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config:\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestSinkDefaultsAndOverrides(t *testing.T) {
	src := `defaults:
  retry: {max_attempts: 5, max_backoff: 1m}
  concurrency: 3
  hold_after: 5m
sinks:
  hook:
    type: slack
    webhook_url: https://hooks.slack.com/services/T/B/X
  api:
    type: Slack
    token: xoxb-1
    channel: "#ops"
    rate_limit: 5/10s
    timeout: 3s
  crm:
    type: webhook
    url: http://127.0.0.1:9/h
    method: put
    retry: {max_attempts: 20}
    concurrency: 1
    hold_after: 0
    probe_interval: 10s
  plain-mail:
    type: email
    smtp: {host: localhost, tls: none}
    from: relay@example.com
  tls-mail:
    type: email
    smtp: {host: smtp.example.com, tls: implicit, username: u, password: p}
    from: Relay <relay@example.com>
  sub-mail:
    type: email
    smtp: {host: smtp.example.com, port: 2525}
    from: relay@example.com
  audit:
    type: log
    url: not checked for log sinks
`
	cfg, err := Parse("f.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	base := Retry{MaxAttempts: 5, InitialBackoff: 2 * time.Second, MaxBackoff: time.Minute, MaxAge: 48 * time.Hour}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "slack webhook", got: cfg.Sink("hook").Settings, want: &slack.Settings{WebhookURL: "https://hooks.slack.com/services/T/B/X", APIURL: slack.DefaultAPIURL, Timeout: 10 * time.Second}},
		{name: "slack rate default", got: cfg.Sink("hook").RateLimit, want: &Rate{Events: 1, Per: time.Second}},
		{name: "slack delivery from defaults", got: cfg.Sink("hook").Delivery, want: DeliveryPolicy{Retry: base, Concurrency: 3, HoldAfter: 5 * time.Minute, ProbeInterval: time.Minute}},
		{name: "slack api", got: cfg.Sink("api").Settings, want: &slack.Settings{Token: "xoxb-1", Channel: "#ops", APIURL: slack.DefaultAPIURL, Timeout: 3 * time.Second}},
		{name: "type case-insensitive", got: cfg.Sink("api").Type, want: "slack"},
		{name: "rate with duration", got: cfg.Sink("api").RateLimit, want: &Rate{Events: 5, Per: 10 * time.Second}},
		{name: "webhook", got: cfg.Sink("crm").Settings, want: &webhook.Settings{URL: "http://127.0.0.1:9/h", Method: "PUT", Timeout: 10 * time.Second}},
		{name: "webhook unlimited", got: cfg.Sink("crm").RateLimit, want: (*Rate)(nil)},
		{name: "override per key", got: cfg.Sink("crm").Delivery, want: DeliveryPolicy{Retry: Retry{MaxAttempts: 20, InitialBackoff: 2 * time.Second, MaxBackoff: time.Minute, MaxAge: 48 * time.Hour}, Concurrency: 1, ProbeInterval: 10 * time.Second}},
		{name: "email none port", got: cfg.Sink("plain-mail").Settings.(*email.Settings).SMTP.Port, want: 587},
		{name: "email implicit", got: cfg.Sink("tls-mail").Settings, want: &email.Settings{SMTP: email.SMTP{Host: "smtp.example.com", Port: 465, Username: "u", Password: "p", TLS: "implicit", Timeout: 30 * time.Second}, From: "Relay <relay@example.com>"}},
		{name: "email explicit port", got: cfg.Sink("sub-mail").Settings.(*email.Settings).SMTP, want: email.SMTP{Host: "smtp.example.com", Port: 2525, TLS: "starttls", Timeout: 30 * time.Second}},
		{name: "log ignores other keys", got: cfg.Sink("audit").Settings, want: nil},
		{name: "file order", got: sinkNames(cfg), want: []string{"hook", "api", "crm", "plain-mail", "tls-mail", "sub-mail", "audit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

func sinkNames(cfg *Config) []string {
	var names []string
	for _, s := range cfg.Sinks {
		names = append(names, s.Name)
	}
	return names
}

func TestRulesAndActions(t *testing.T) {
	src := `sinks:
  mail: {type: email, smtp: {host: h}, from: a@example.com}
  audit: {type: log}
rules:
  - name: r1
    stop: true
    actions:
      - sink: mail
        to: "{{ input_variables.email }}"
        cc: [a@example.com, b@example.com]
        subject: Hi
        html: "<b>{{ status }}</b>"
  - name: r.2
    when: duration > 60
    actions:
      - sink: audit
        text: t
        blocks: [{type: section}]
`
	cfg, err := Parse("f.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	r1, r2 := cfg.Rules[0], cfg.Rules[1]
	a1, a2 := r1.Actions[0], r2.Actions[0]
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "rule line", got: r1.Line, want: 5},
		{name: "stop", got: r1.Stop, want: true},
		{name: "empty when", got: r1.When, want: Expr{}},
		{name: "when", got: r2.When, want: Expr{Text: "duration > 60", Line: 14}},
		{name: "action line", got: []int{a1.Line, a1.SinkLine}, want: []int{8, 8}},
		{name: "to as string", got: a1.Value("to").Templates, want: []Template{{Text: "{{ input_variables.email }}", Line: 9}}},
		{name: "cc as list", got: a1.Value("cc").Templates, want: []Template{{Text: "a@example.com", Line: 10}, {Text: "b@example.com", Line: 10}}},
		{name: "subject", got: a1.Value("subject").Template, want: Template{Text: "Hi", Line: 11}},
		{name: "html", got: a1.Value("html").Template, want: Template{Text: "<b>{{ status }}</b>", Line: 12}},
		{name: "absent blocks", got: !a1.Has("blocks") && !a1.Has("body"), want: true},
		{name: "blocks kept", got: a2.Has("blocks") && a2.Value("blocks").Tree.Line == 18, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Size
		ok   bool
	}{
		{name: "bytes", in: "1000", want: 1000, ok: true},
		{name: "KiB", in: "512KiB", want: 512 << 10, ok: true},
		{name: "MiB with space", in: "4 MiB", want: 4 << 20, ok: true},
		{name: "GiB lower case", in: "1gib", want: 1 << 30, ok: true},
		{name: "KB", in: "3KB", want: 3000, ok: true},
		{name: "MB", in: "2MB", want: 2e6, ok: true},
		{name: "GB", in: "1GB", want: 1e9, ok: true},
		{name: "B", in: "10B", want: 10, ok: true},
		{name: "words", in: "4 megs"},
		{name: "fraction", in: "1.5MiB"},
		{name: "unit only", in: "MiB"},
		{name: "overflow", in: "99999999999GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want && tt.ok {
				t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Rate
	}{
		{name: "per second", in: "1/s", want: &Rate{1, time.Second}},
		{name: "per minute", in: "30/m", want: &Rate{30, time.Minute}},
		{name: "per hour", in: "100/h", want: &Rate{100, time.Hour}},
		{name: "per duration", in: "5/10s", want: &Rate{5, 10 * time.Second}},
		{name: "spaces", in: " 2 / s ", want: &Rate{2, time.Second}},
		{name: "zero", in: "0/s"},
		{name: "no slash", in: "10"},
		{name: "bad unit", in: "1/day"},
		{name: "negative period", in: "1/-1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRate(tt.in)
			if tt.want == nil {
				if err == nil {
					t.Errorf("parseRate(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || *got != *tt.want {
				t.Errorf("parseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != strings.ReplaceAll(strings.TrimSpace(tt.in), " ", "") {
				t.Errorf("Rate.String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"url", "method", "headers", "timeout", "signing_secret"}
	tests := []struct {
		name string
		key  string
		want string
	}{
		{name: "transposition", key: "ulr", want: "url"},
		{name: "missing letter", key: "timout", want: "timeout"},
		{name: "case", key: "Method", want: "method"},
		{name: "two edits", key: "header", want: "headers"},
		{name: "far", key: "colour", want: ""},
		{name: "short and different", key: "x", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := suggest(tt.key, known); got != tt.want {
				t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}
