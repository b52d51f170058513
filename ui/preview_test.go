package ui

import (
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
)

// TestRequestShapedMessages checks that a message is shown by its preview's shape, whatever its sink
// type: a Teams card as the request with its body (without JSON's \u003c for "<"), a Twilio SMS as
// the request with its form fields, the phone number masked.
func TestRequestShapedMessages(t *testing.T) {
	e := newEnv(t, nil)
	cfg, err := config.Parse("shapes.yaml", []byte(`
sinks:
  sales-teams: { type: teams, webhook_url: "https://example.logic.azure.com/workflows/1?sig=TEAMSSECRET" }
  reps-sms: { type: twilio, account_sid: AC0123456789abcdef0123456789abcdef, auth_token: TWILIOSECRET, from: "+15017122661" }
`), nil)
	if err != nil {
		t.Fatal(err)
	}

	teams := e.console.renderMessage(cfg, "sales-teams", "r", 0, 1, []byte(`{"text":"Call <b>back</b> soon"}`))
	if teams.Error != "" || teams.Method != "POST" || !strings.Contains(teams.BodyText, "Call <b>back</b> soon") {
		t.Errorf("teams message = method %q error %q body %q, want the POST with its card, <b> as written",
			teams.Method, teams.Error, teams.BodyText)
	}

	sms := e.console.renderMessage(cfg, "reps-sms", "r", 0, 1, []byte(`{"to":"+15558675310","text":"Hot lead"}`))
	fields := map[string]string{}
	for _, f := range sms.FormList {
		fields[f.Name] = f.Value
	}
	if sms.Error != "" || sms.Method != "POST" || fields["Body"] != "Hot lead" || fields["From"] == "" {
		t.Errorf("twilio message = method %q error %q fields %v, want the POST with its form fields", sms.Method, sms.Error, fields)
	}
	if to := fields["To"]; to == "" || strings.Contains(to, "8675310") {
		t.Errorf("twilio To shown as %q, want it masked", to)
	}
	for _, m := range []message{teams, sms} {
		for _, secret := range []string{"TEAMSSECRET", "TWILIOSECRET"} {
			if strings.Contains(m.URL+m.BodyText+m.Auth+m.Form["To"], secret) {
				t.Errorf("message shows %s", secret)
			}
		}
	}
}
