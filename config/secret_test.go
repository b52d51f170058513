package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/sinks/email"
	"github.com/switchboard-relay/switchboard/sinks/slack"
	"github.com/switchboard-relay/switchboard/sinks/webhook"
)

// secretEnv gives every secret of secretConfig a distinctive value that must never be shown.
var secretEnv = map[string]string{
	"AUTH_TOKEN":     "sekrit-auth-token",
	"ADMIN_TOKEN":    "sekrit-admin-token",
	"DSN":            "postgres://u:sekrit-db-pass@db/sw",
	"SLACK_HOOK":     "https://hooks.slack.com/services/T0/B0/sekrit-slack-hook",
	"SLACK_TOKEN":    "xoxb-sekrit-slack-token",
	"CRM_URL":        "https://crm.example.com/hook?key=sekrit-crm-key",
	"CRM_TOKEN":      "sekrit-crm-token",
	"CRM_SIGNING":    "whsec_c2Vrcml0LXNpZ25pbmc=", // base64 of sekrit-signing
	"SMTP_PASSWORD":  "sekrit-smtp-pass",
	"NOT_A_URL_HOOK": "sekrit-broken-hook",
}

const secretConfig = `server:
  auth: {token: "${AUTH_TOKEN}"}
  admin_token: ${ADMIN_TOKEN}
storage:
  driver: postgres
  dsn: ${DSN}
sinks:
  hook:
    type: slack
    webhook_url: ${SLACK_HOOK}
  api:
    type: slack
    token: ${SLACK_TOKEN}
    channel: "#ops"
  crm:
    type: webhook
    url: ${CRM_URL}
    headers: {Authorization: "Bearer ${CRM_TOKEN}"}
    signing_secret: ${CRM_SIGNING}
  mail:
    type: email
    smtp: {host: smtp.example.com, username: relay, password: "${SMTP_PASSWORD}"}
    from: relay@example.com
`

// TestSecretsNeverShown dumps a loaded config every way a caller might print it and checks that no
// secret value appears.
func TestSecretsNeverShown(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(secretConfig), mapEnv(secretEnv))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if string(cfg.Sink("crm").Settings.(*webhook.Settings).Headers["Authorization"]) != "Bearer sekrit-crm-token" {
		t.Fatalf("secrets not loaded: the test would prove nothing")
	}
	dumps := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q", "%10.3s"} {
		out := fmt.Sprintf(verb, *cfg) + fmt.Sprintf(verb, cfg) + fmt.Sprintf(verb, cfg.Server) + fmt.Sprintf(verb, cfg.Storage)
		for _, s := range cfg.Sinks {
			out += fmt.Sprintf(verb, *s) + fmt.Sprintf(verb, s)
			out += fmt.Sprintf(verb, s.Settings)
			switch set := s.Settings.(type) {
			case *slack.Settings:
				out += fmt.Sprintf(verb, *set)
			case *webhook.Settings:
				out += fmt.Sprintf(verb, *set)
			case *email.Settings:
				out += fmt.Sprintf(verb, *set)
			}
		}
		dumps["fmt "+verb] = out
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	dumps["json"] = string(js)
	ys, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	dumps["yaml"] = string(ys)
	for how, out := range dumps {
		// %10.3s cuts every value to three characters, the placeholder too.
		placeholder := strings.Contains(out, "<secret>") || strings.Contains(out, `\u003csecret\u003e`) ||
			how == "fmt %10.3s" && strings.Contains(out, " <se")
		if !placeholder {
			t.Errorf("%s: no <secret> placeholder in the dump, so the test proves nothing:\n%s", how, out)
		}
		for name, v := range secretEnv {
			if strings.Contains(out, v) || strings.Contains(out, strings.TrimPrefix(v, "https://")) {
				t.Errorf("%s shows the value of %s:\n%s", how, name, out)
			}
		}
	}
}

// TestSecretsNotInErrors checks that a wrong secret value is reported without being shown.
func TestSecretsNotInErrors(t *testing.T) {
	src := `sinks:
  hook: {type: slack, webhook_url: "${NOT_A_URL_HOOK}"}
  crm: {type: webhook, url: "ftp://${CRM_TOKEN}@crm"}
`
	_, err := Parse("f.yaml", []byte(src), mapEnv(secretEnv))
	if err == nil {
		t.Fatal("Parse accepted URLs that are not http(s)")
	}
	if got := strings.Count(err.Error(), "the value is a secret, so it is not shown"); got != 2 {
		t.Errorf("errors = %v, want two URL problems", err)
	}
	for name, v := range secretEnv {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error shows the value of %s: %v", name, err)
		}
	}
}
