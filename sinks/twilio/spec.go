package twilio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Spec declares the twilio sink type.
var Spec = &spec.Descriptor{
	Type: "twilio",
	Doc:  "one SMS per message through Twilio's Messages API",
	Keys: []spec.Key{
		{Name: "account_sid", Kind: spec.KindString, Required: true,
			Doc: "the Twilio Account SID, `AC` and 32 hex digits"},
		{Name: "auth_token", Kind: spec.KindSecret, Required: true,
			Doc: "**secret**; the account's Auth Token"},
		{Name: "from", Kind: spec.KindString,
			Doc: "the sender: a Twilio number in E.164 (`+15017122661`), a short code (3–8 digits) or an alphanumeric sender ID (up to 11 characters); exactly one of `from` and `messaging_service_sid`"},
		{Name: "messaging_service_sid", Kind: spec.KindString,
			Doc: "a Messaging Service that picks the sender, `MG` and 32 hex digits; instead of `from`"},
		{Name: "api_url", Kind: spec.KindURL, Default: DefaultAPIURL,
			Doc: "Twilio's API (change it only for a proxy or a test server)"},
		{Name: "timeout", Kind: spec.KindDuration, Default: httpsink.DefaultTimeout.String(), Timeout: true,
			Doc: "time allowed for one attempt"},
	},
	ActionKeys: []spec.ActionKey{
		{Name: "to", Kind: spec.ActionTemplate, Required: true,
			Doc: "the recipient's phone number in E.164 (`+15558675310`); spaces, dashes, dots and parentheses are removed, anything else that is not E.164 is a `template` failure"},
		{Name: "text", Kind: spec.ActionTemplate, Required: true, Escape: escapeText,
			Doc: "the SMS text, cut to 1,600 characters; control characters from the call are dropped"},
	},
	// Twilio sends 1 segment per second from a US long code and queues the rest (for 10 hours, then
	// 21611): a short code or a Messaging Service with several senders allows more (docs/sinks.md).
	DefaultRate: "1/s",
	CheckAction: func(a spec.Action) []spec.Problem {
		// A number written in the config is checked when it loads; one from the call when sent.
		if to, ok := a.Literal("to"); ok {
			if _, err := normalizeNumber(to); err != nil {
				return []spec.Problem{{Key: "to", Msg: "must be a phone number in E.164 such as \"+15558675310\": " + err.Error()}}
			}
		}
		return nil
	},
	Decode:   decode,
	New:      spec.Construct(New),
	Notice:   notice,
	NoticeTo: true,
	TestMark: "text",
}

// notice renders a notification as one short SMS to the one number of notify's `to`: its subject
// ("Switchboard: 3 deliveries to crm failed"), the details being on the console and in the log; or a
// notify.dead_letters.text as it was rendered.
func notice(n spec.Notice) (sinks.Message, error) {
	if len(n.To) != 1 {
		return nil, errors.New("a twilio notification goes to one phone number: give notify's to exactly one")
	}
	to, err := normalizeNumber(n.To[0])
	if err != nil {
		return nil, fmt.Errorf("notify's to is not a phone number in E.164: %w", err)
	}
	text := n.Text
	if !n.Markup {
		text = string(escapeText(nil, strings.TrimSpace(n.Subject)))
	}
	return json.Marshal(Message{To: to, Text: text})
}
