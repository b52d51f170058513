package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/email"
	"github.com/switchboard-relay/switchboard/sinks/logsink"
	"github.com/switchboard-relay/switchboard/sinks/slack"
	"github.com/switchboard-relay/switchboard/sinks/webhook"
)

func TestNewBuildsEachType(t *testing.T) {
	tests := []struct {
		name string
		conf *config.Sink
		want sinks.Sink
	}{
		{name: "slack", conf: &config.Sink{Name: "s", Type: "slack", Spec: slack.Spec, Settings: &slack.Settings{WebhookURL: "https://hooks.slack.com/services/T0"}},
			want: (*slack.Sink)(nil)},
		{name: "webhook", conf: &config.Sink{Name: "w", Type: "webhook", Spec: webhook.Spec, Settings: &webhook.Settings{URL: "https://crm.example.com/hook"}},
			want: (*webhook.Sink)(nil)},
		{name: "email", conf: &config.Sink{Name: "e", Type: "email", Spec: email.Spec, Settings: &email.Settings{SMTP: email.SMTP{Host: "smtp.example.com"}, From: "a@example.com"}},
			want: (*email.Sink)(nil)},
		{name: "log", conf: &config.Sink{Name: "l", Type: "log", Spec: logsink.Spec}, want: (*logsink.Sink)(nil)},
		{name: "log ignores other types' keys", conf: &config.Sink{Name: "l", Type: "log", Spec: logsink.Spec, Settings: &slack.Settings{}},
			want: (*logsink.Sink)(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := New(tc.conf, Options{})
			if err != nil {
				t.Fatalf("New() = %v, want nil", err)
			}
			if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", tc.want) {
				t.Errorf("New() = %T, want %T", got, tc.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		conf *config.Sink
		want string
	}{
		{name: "nil", conf: nil, want: "no sink config"},
		{name: "unknown type", conf: &config.Sink{Name: "x", Type: "pager"},
			want: `unknown type "pager" (known: email, log, slack, webhook)`},
		{name: "slack without settings", conf: &config.Sink{Name: "s", Type: "slack", Spec: slack.Spec}, want: `slack sink has no settings`},
		{name: "webhook without settings", conf: &config.Sink{Name: "w", Type: "webhook", Spec: webhook.Spec}, want: `webhook sink has no settings`},
		{name: "email without settings", conf: &config.Sink{Name: "e", Type: "email", Spec: email.Spec}, want: `email sink has no settings`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := New(tc.conf, Options{})
			if got != nil {
				t.Errorf("New() sink = %#v, want nil", got)
			}
			var se *sinks.Error
			if !errors.As(err, &se) || se.Reason != sinks.ReasonConfig {
				t.Fatalf("New() = %v, want a config *sinks.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
