package slack

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		conf *Settings
		want string
	}{
		{name: "nothing set", conf: &Settings{}, want: `missing required key "webhook_url" (or token and channel to post with the Web API)`},
		{name: "no settings", conf: nil, want: "slack sink has no settings"},
		{name: "both modes", conf: &Settings{WebhookURL: "https://hooks.slack.com/services/x", Token: testToken, Channel: "C1"},
			want: "not both"},
		{name: "token without channel", conf: &Settings{Token: testToken}, want: "posting with a token needs a channel"},
		{name: "webhook not a URL", conf: &Settings{WebhookURL: "hooks.slack.com/services/T0SECRET"},
			want: "webhook_url is not an http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("ops", tc.conf, nil)
			var se *sinks.Error
			if !errors.As(err, &se) || se.Reason != sinks.ReasonConfig {
				t.Fatalf("New() = %v, want a config *sinks.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() = %q, want it to contain %q", err, tc.want)
			}
			sinktest.AssertNoSecrets(t, []string{testToken, "T0SECRET"}, err.Error())
		})
	}
}

func TestPreviewIsTheBody(t *testing.T) {
	tests := []struct {
		name string
		conf *Settings
		want string
	}{
		{name: "webhook", conf: &Settings{WebhookURL: "https://hooks.slack.com/services/T0SECRET"},
			want: `{"text":"Hot lead \u0026lt;Ann\u0026gt;: wants a demo","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"Hot lead"}}]}`},
		{name: "web api", conf: &Settings{Token: testToken, Channel: "C0SALES"},
			want: `{"channel":"C0SALES","text":"Hot lead \u0026lt;Ann\u0026gt;: wants a demo","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"Hot lead"}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New("sales", tc.conf, nil)
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			p, err := s.Preview(sinktest.Delivery())
			if err != nil {
				t.Fatalf("Preview() = %v", err)
			}
			got := sinktest.JSON(t, p)
			if got != tc.want {
				t.Errorf("Preview() = %s, want %s", got, tc.want)
			}
			sinktest.AssertNoSecrets(t, []string{testToken, "T0SECRET"}, got)
		})
	}
}

// TestNoSecretInConnectionFailures checks the errors and log lines of a refused connection, which
// go-retryablehttp and net/http would print with the full URL.
func TestNoSecretInConnectionFailures(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL + sinktest.SecretPath + "?token=" + testToken
	srv.Close()
	s, logs := newWebhookSink(t, url)
	err := s.Send(context.Background(), sinktest.Delivery())
	var se *sinks.Error
	if !errors.As(err, &se) || !se.Retryable || se.Reason != sinks.ReasonConnection {
		t.Fatalf("Send() = %v, want a retryable connection *sinks.Error", err)
	}
	if !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("error %q does not say it tried 3 times", err)
	}
	if !strings.Contains(logs.String(), "request failed") {
		t.Errorf("logs = %q, want go-retryablehttp's failed attempts", logs)
	}
	sinktest.AssertNoSecrets(t, []string{sinktest.SecretPath, testToken, "T0SECRET"}, err.Error(), logs.String())
}

func TestSendWithoutMessage(t *testing.T) {
	s, err := New("sales", &Settings{WebhookURL: "https://hooks.slack.com/services/T0SECRET"}, nil)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	err = s.Send(context.Background(), &sinks.Delivery{CallID: 1})
	var se *sinks.Error
	if !errors.As(err, &se) || se.Reason != sinks.ReasonTemplate || se.Retryable {
		t.Errorf("Send() = %v, want a permanent template *sinks.Error", err)
	}
}
