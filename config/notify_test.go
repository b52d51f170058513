package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const notifySinks = `sinks:
  ops: {type: slack, webhook_url: "https://hooks.slack.com/services/T/B/X"}
  crm: {type: webhook, url: "https://crm.example.com/hook"}
  mail: {type: email, smtp: {host: smtp.example.com}, from: relay@example.com}
`

func TestNotify(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		want      Notify
		publicURL string
	}{
		{name: "absent", src: notifySinks},
		{name: "defaults", src: notifySinks + "notify:\n  dead_letters:\n    sink: ops\n  sink_down:\n    sink: crm\n",
			want: Notify{DeadLetters: &DeadLettersNotify{Sink: "ops", Line: 6, GroupWait: 30 * time.Second},
				SinkDown: &SinkDownNotify{Sink: "crm", Line: 8}}},
		{name: "group wait and text", src: notifySinks + "notify:\n  dead_letters:\n    sink: ops\n    group_wait: 1s\n    text: \"{{ count }} dead\"\n",
			want: Notify{DeadLetters: &DeadLettersNotify{Sink: "ops", Line: 6, GroupWait: time.Second,
				Text: Template{Text: "{{ count }} dead", Line: 9}}}},
		{name: "email", src: notifySinks + "notify:\n  sink_down:\n    sink: mail\n    to: [ops@example.com]\n",
			want: Notify{SinkDown: &SinkDownNotify{Sink: "mail", Line: 6, To: []string{"ops@example.com"}}}},
		{name: "public url", src: notifySinks + "server:\n  public_url: https://sb.example.com/\n", publicURL: "https://sb.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f.yaml", []byte(tt.src), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(cfg.Notify, tt.want) {
				t.Errorf("Notify = %+v, want %+v", cfg.Notify, tt.want)
			}
			if cfg.Server.PublicURL != tt.publicURL {
				t.Errorf("PublicURL = %q, want %q", cfg.Server.PublicURL, tt.publicURL)
			}
		})
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "unknown sink", src: notifySinks + "notify:\n  dead_letters:\n    sink: opz\n",
			want: `f.yaml:7: notify.dead_letters.sink: undefined sink "opz" (defined: "ops", "crm", "mail")`},
		{name: "missing sink", src: notifySinks + "notify:\n  sink_down:\n    {}\n",
			want: `f.yaml:6: notify.sink_down: missing required key "sink"`},
		{name: "group wait under 1s", src: notifySinks + "notify:\n  dead_letters:\n    sink: ops\n    group_wait: 500ms\n",
			want: `f.yaml:8: notify.dead_letters.group_wait: must be at least 1s, got 500ms`},
		{name: "unknown key", src: notifySinks + "notify:\n  dead_letter:\n    sink: ops\n",
			want: `f.yaml:6: notify.dead_letter: unknown key`},
		{name: "email without to", src: notifySinks + "notify:\n  sink_down:\n    sink: mail\n",
			want: `f.yaml:6: notify.sink_down: missing required key "to"`},
		{name: "to for slack", src: notifySinks + "notify:\n  sink_down:\n    sink: ops\n    to: a@example.com\n",
			want: `f.yaml:8: notify.sink_down.to: not used by slack sinks`},
		{name: "public url not a url", src: "server:\n  public_url: sb.example.com\n",
			want: `f.yaml:2: server.public_url: must be the URL at which people reach this server`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.src), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
