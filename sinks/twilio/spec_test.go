package twilio

import (
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// TestDecode checks the problems Decode reports (the key and what is wrong, never the token) and the
// settings it builds.
func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		change  func(v values)
		wantKey string
		wantMsg string
		missing bool
	}{
		{"account_sid too short", func(v values) { v["account_sid"] = "AC0123" }, "account_sid", "AC and 32 hex digits", false},
		{"account_sid of another kind", func(v values) { v["account_sid"] = "SK0123456789abcdef0123456789abcdef" }, "account_sid", "not an account SID", false},
		{"account_sid not hex", func(v values) { v["account_sid"] = "AC0123456789abcdef0123456789abcdeg" }, "account_sid", "not an account SID", false},
		{"neither from nor messaging_service_sid", func(v values) { delete(v, "from") }, "from", "or messaging_service_sid", true},
		{"from empty", func(v values) { v["from"] = "" }, "from", "or messaging_service_sid", true},
		{"both from and messaging_service_sid", func(v values) { v["messaging_service_sid"] = testService }, "messaging_service_sid", "not both", false},
		{"messaging_service_sid not an MG SID", func(v values) {
			delete(v, "from")
			v["messaging_service_sid"] = "MG123"
		}, "messaging_service_sid", "MG and 32 hex digits", false},
		{"from a number with a leading 0", func(v values) { v["from"] = "+0501712266" }, "from", "country code starts with 0", false},
		{"from a national number", func(v values) { v["from"] = "5017122661" }, "from", "neither a short code", false},
		{"from too long for a sender ID", func(v values) { v["from"] = "Acme Sales Team" }, "from", "at most 11 characters", false},
		{"from a sender ID with a dot", func(v values) { v["from"] = "acme.com" }, "from", "letters, digits, spaces", false},
		{"from digits and a space", func(v values) { v["from"] = "12 34" }, "from", "needs a letter", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := config("")
			tt.change(v)
			set, problems := Spec.Decode(v)
			if set != nil || len(problems) != 1 {
				t.Fatalf("Decode() = %v, %+v; want one problem", set, problems)
			}
			p := problems[0]
			if p.Key != tt.wantKey || p.Missing != tt.missing || !strings.Contains(p.Msg, tt.wantMsg) {
				t.Errorf("problem = %+v, want key %q missing %v saying %q", p, tt.wantKey, tt.missing, tt.wantMsg)
			}
			sinktest.AssertNoSecrets(t, []string{testToken}, p.Msg)
		})
	}

	senders := map[string]string{"+1 501-712-2661": "+15017122661", "12345": "12345", "Acme": "Acme", "A&B Co-op": "A&B Co-op"}
	for from, want := range senders {
		v := config("")
		v["from"] = from
		s, _ := newTestSink(t, v)
		if s.from != want {
			t.Errorf("from %q is sent as %q, want %q", from, s.from, want)
		}
	}
	v := config("")
	delete(v, "api_url")
	set := decodeOK(t, v)
	if set.APIURL != DefaultAPIURL || set.Timeout.String() != "10s" {
		t.Errorf("defaults: api_url %q, timeout %v", set.APIURL, set.Timeout)
	}
}

// TestPreview checks that Preview shows the request Send would make, the auth token as "<secret>".
func TestPreview(t *testing.T) {
	s, logs := newTestSink(t, config("http://127.0.0.1:9"))
	p, err := s.Preview(delivery(t, "+1 555 867 5310", "Hot lead:\nAnn"))
	if err != nil {
		t.Fatal(err)
	}
	got := sinktest.JSON(t, p)
	want := `{"method":"POST","url":"http://127.0.0.1:9/2010-04-01/Accounts/` + testSID + `/Messages.json",` +
		`"auth":"` + testSID + `:\u003csecret\u003e","form":{"Body":"Hot lead:\nAnn","From":"+15017122661","To":"+15558675310"}}`
	if got != want {
		t.Errorf("Preview() =\n%s\nwant\n%s", got, want)
	}
	sinktest.AssertNoSecrets(t, []string{testToken}, got, logs.String())

	if _, err := s.Preview(delivery(t, "555 867 5310", "Hot lead")); sinks.Classify(err).Reason != sinks.ReasonTemplate {
		t.Errorf("Preview(bad to) = %v, want the template failure Send gives", err)
	}
}

// TestNotice checks that a notification is one short SMS to notify's one number.
func TestNotice(t *testing.T) {
	m, err := Spec.Notice(spec.Notice{Kind: "dead_letters", Subject: "Switchboard: 3 deliveries to crm failed",
		Text: "Switchboard: 3 deliveries to crm failed\n• call 1 …", To: []string{testTo}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeMessage(&sinks.Delivery{Message: m})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Message{To: testTo, Text: "Switchboard: 3 deliveries to crm failed"}); got != want {
		t.Errorf("Notice() = %+v, want %+v", got, want)
	}
	// A notify.dead_letters.text is sent as rendered (its values from the call already escaped).
	m, err = Spec.Notice(spec.Notice{Kind: "dead_letters", Subject: "Switchboard: 1 delivery to crm failed",
		Text: "crm: 1 dead\ncall 7", Markup: true, To: []string{"+1 555 867 5310"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := decodeMessage(&sinks.Delivery{Message: m}); got != (Message{To: testTo, Text: "crm: 1 dead\ncall 7"}) {
		t.Errorf("Notice(markup) = %+v", got)
	}
	for _, to := range [][]string{nil, {testTo, "+15017122661"}, {"5558675310"}} {
		if _, err := Spec.Notice(spec.Notice{Kind: "sink_down", Subject: "Switchboard: sink crm is down", To: to}); err == nil {
			t.Errorf("Notice(to %v) = nil error, want one: an SMS goes to one E.164 number", to)
		}
	}
}

func TestMaskNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"'To' number +15558675310 is not", "'To' number +*******5310 is not"},
		{"The 'To' number 5558675310 is not", "The 'To' number ******5310 is not"},
		{"number +1 (555) 867-5310.", "number +* (***) ***-5310."},
		{"twilio error 21211 (https://www.twilio.com/docs/errors/21211)", "twilio error 21211 (https://www.twilio.com/docs/errors/21211)"},
		{"The requested resource /2010-04-01/Accounts/AC01/Messages.json", "The requested resource /2010-04-01/Accounts/AC01/Messages.json"},
		{"resource /Accounts/AC0123456789abcdef0123456789abcdef/Messages.json", "resource /Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"},
		{"token 0f1e2d3c4b5a69788796a5b4c3d2e1f0", "token 0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
	}
	for _, tt := range tests {
		if got := maskNumbers(tt.in); got != tt.want {
			t.Errorf("maskNumbers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestNewChecksSettings checks that settings built without the config get Decode's checks.
func TestNewChecksSettings(t *testing.T) {
	good := Settings{AccountSID: testSID, AuthToken: testToken, From: testFrom}
	tests := []struct {
		name   string
		change func(s *Settings)
		want   string
	}{
		{"no account SID", func(s *Settings) { s.AccountSID = "" }, "needs account_sid and auth_token"},
		{"no auth token", func(s *Settings) { s.AuthToken = "" }, "needs account_sid and auth_token"},
		{"a bad account SID", func(s *Settings) { s.AccountSID = "AC1" }, "account_sid: is not an account SID"},
		{"no sender", func(s *Settings) { s.From = "" }, `missing required key "from"`},
		{"two senders", func(s *Settings) { s.MessagingServiceSID = testService }, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.change(&s)
			_, err := New("reps", &s, nil)
			if se := sinks.Classify(err); se == nil || se.Reason != sinks.ReasonConfig || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() = %v, want a config error saying %q", err, tt.want)
			}
		})
	}
	if _, err := New("reps", nil, nil); err == nil {
		t.Error("New(nil settings) = nil error")
	}
	s, err := New("reps", &good, nil)
	if err != nil {
		t.Fatalf("New(good settings) = %v", err)
	}
	if want := DefaultAPIURL + "/2010-04-01/Accounts/" + testSID + "/Messages.json"; s.endpoint != want {
		t.Errorf("endpoint = %q, want %q (api_url's default)", s.endpoint, want)
	}
}
