package twilio

import (
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// DefaultAPIURL is Twilio's REST API, where api_url points unless a test or a proxy overrides it.
const DefaultAPIURL = "https://api.twilio.com"

// Settings are a twilio sink's config, as decode returns them: checked, with defaults applied.
type Settings struct {
	AccountSID string      // AC and 32 hex digits
	AuthToken  spec.Secret // the account's Auth Token
	// From is the sender: an E.164 number, a short code or an alphanumeric sender ID; empty when
	// MessagingServiceSID picks it.
	From string
	// MessagingServiceSID (MG and 32 hex digits) is the Messaging Service that picks the sender;
	// empty when From is set.
	MessagingServiceSID string
	APIURL              string        // default DefaultAPIURL, without a trailing slash
	Timeout             time.Duration // default 10s
}

// decode is the Descriptor's Decode: the settings as the config gives them, and their problems.
func decode(v spec.Values) (any, []spec.Problem) {
	s := &Settings{
		AccountSID:          strings.TrimSpace(v.String("account_sid")),
		AuthToken:           v.Secret("auth_token"),
		From:                strings.TrimSpace(v.String("from")),
		MessagingServiceSID: strings.TrimSpace(v.String("messaging_service_sid")),
		APIURL:              strings.TrimRight(v.String("api_url"), "/"),
		Timeout:             v.Duration("timeout"),
	}
	if ps := s.problems(); len(ps) > 0 {
		return nil, ps
	}
	return s, nil
}

// problems reports what no single key's kind shows, for decode and for New: the shape of the SIDs
// and of From, and that exactly one of From and MessagingServiceSID is set. A missing account_sid
// or auth_token is the config loader's to report (they are Required); a problem never quotes the
// auth token.
func (s *Settings) problems() []spec.Problem {
	var ps []spec.Problem
	if s.AccountSID != "" && !isSID(s.AccountSID, "AC") {
		ps = append(ps, spec.Problem{Key: "account_sid",
			Msg: "is not an account SID (AC and 32 hex digits): copy it from the Twilio console"})
	}
	// A key set to "" (a ${VAR} that expanded empty) counts as absent.
	hasFrom, hasService := s.From != "", s.MessagingServiceSID != ""
	switch {
	case hasFrom && hasService:
		ps = append(ps, spec.Problem{Key: "messaging_service_sid", Msg: "set either from or messaging_service_sid, not both"})
	case !hasFrom && !hasService:
		ps = append(ps, spec.Problem{Key: "from", Missing: true,
			Msg: "set from (the sender) or messaging_service_sid (a Messaging Service that picks it)"})
	case hasService && !isSID(s.MessagingServiceSID, "MG"):
		ps = append(ps, spec.Problem{Key: "messaging_service_sid",
			Msg: "is not a Messaging Service SID (MG and 32 hex digits): copy it from the Twilio console"})
	case hasFrom:
		if msg := checkSender(s.From); msg != "" {
			ps = append(ps, spec.Problem{Key: "from", Msg: msg})
		}
	}
	return ps
}

// sender is From as Twilio gets it: a phone number without its separators ("+1 501-712-2661" is
// sent as "+15017122661"), a short code or sender ID as it is.
func (s *Settings) sender() string {
	if n, err := normalizeNumber(s.From); err == nil {
		return n
	}
	return s.From
}

// isSID reports whether s is a Twilio SID with prefix: the two letters and 32 hex digits.
func isSID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 32 {
		return false
	}
	for _, r := range rest {
		if !isHex(r) {
			return false
		}
	}
	return true
}

func isHex(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
}

// Limits of the senders from accepts (docs/sinks.md, "type: twilio").
const (
	shortCodeMin = 3  // digits of the shortest short code
	shortCodeMax = 8  // digits of the longest short code
	alphaIDMax   = 11 // characters of an alphanumeric sender ID
)

// checkSender returns what is wrong with from, or "": it must be a phone number in E.164 (a +, then
// the country code; spaces, dashes, dots and parentheses allowed), a short code (3 to 8 digits) or an
// alphanumeric sender ID (up to 11 ASCII letters, digits, spaces and - _ & +, at least one letter).
func checkSender(from string) string {
	switch {
	case strings.HasPrefix(from, "+"):
		if _, err := normalizeNumber(from); err != nil {
			return "is not an E.164 number: " + err.Error()
		}
		return ""
	case allDigits(from):
		if len(from) < shortCodeMin || len(from) > shortCodeMax {
			return "is neither a short code (3 to 8 digits) nor an E.164 number: write a phone number with + and its country code, such as +15017122661"
		}
		return ""
	default:
		if len(from) > alphaIDMax {
			return "is not an alphanumeric sender ID (at most 11 characters) nor an E.164 number (+ and digits)"
		}
		letter := false
		for _, r := range from {
			switch {
			case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
				letter = true
			case (r >= '0' && r <= '9') || strings.ContainsRune(" -_&+", r):
			default:
				return "is not an alphanumeric sender ID (ASCII letters, digits, spaces and - _ & + only) nor an E.164 number (+ and digits)"
			}
		}
		if !letter {
			return "is not an alphanumeric sender ID (it needs a letter) nor an E.164 number (+ and digits)"
		}
		return ""
	}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
