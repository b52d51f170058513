package relay

import (
	"encoding"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/switchboard-relay/switchboard/phone"
)

// phonePattern matches phone numbers in international form, as Intellixent sends them: a + and at
// least eight digits, with single separators allowed ("+1234567890", "+1 (234) 567-8901"). Dates,
// timestamps and ids have no + and are left alone.
var phonePattern = regexp.MustCompile(`\+\d(?:[ .()-]?\d){7,}`)

// maskPhoneAttr is a slog ReplaceAttr that masks phone numbers in the text of every value: strings,
// and also errors, fmt.Stringers, text marshalers, byte slices and any other value, as the handler
// would print it. (slog resolves LogValuers before, and calls this for each member of a group.) A
// value that contains a phone number is logged as its masked text; any other is left as it is.
func maskPhoneAttr(_ []string, a slog.Attr) slog.Attr {
	var v string
	switch a.Value.Kind() {
	case slog.KindString:
		v = a.Value.String()
	case slog.KindAny:
		v = anyText(a.Value.Any())
	default:
		return a // numbers, bools, times and durations hold no phone number
	}
	if !strings.Contains(v, "+") {
		return a
	}
	masked := phonePattern.ReplaceAllStringFunc(v, MaskPhone)
	if masked == v {
		return a
	}
	return slog.String(a.Key, masked)
}

// anyText is the text a log handler shows for v; "" when v cannot say (a method panics on a nil
// pointer, which the handler itself reports).
func anyText(v any) (text string) {
	defer func() {
		if recover() != nil {
			text = ""
		}
	}()
	switch x := v.(type) {
	case nil:
		return ""
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return ""
		}
		return string(b)
	case []byte:
		return string(x)
	default:
		return fmt.Sprintf("%+v", x)
	}
}

// MaskPhone keeps a phone number's leading + and last four digits and replaces the other digits
// with '*' (phone.Mask, shared with the web console).
func MaskPhone(p string) string { return phone.Mask(p) }
