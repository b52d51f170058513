package relay

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
)

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"e164", "+1234567890", "+******7890"},
		{"written with separators", "+1 (234) 567-8901", "+* (***) ***-8901"},
		{"short number kept", "1234", "1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLoggerMasksPhoneNumbers(t *testing.T) {
	tests := []struct {
		name       string
		showPhones bool
		want       string
		notWant    string
	}{
		{"masked by default", false, "+******7890", "+1234567890"},
		{"shown when configured", true, "+1234567890", "******"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := NewLogger(&buf, "json", "info", tt.showPhones)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("message", "message", `{"subject":"Hot lead: +1234567890"}`, "call_id", 12345678901,
				"next_attempt", "2026-11-26T22:48:07Z", "key", "12345678-hot-leads-0")
			out := buf.String()
			if !strings.Contains(out, tt.want) || strings.Contains(out, tt.notWant) {
				t.Errorf("log line = %s\nwant it to contain %q and not %q", out, tt.want, tt.notWant)
			}
			for _, keep := range []string{`"call_id":12345678901`, "2026-11-26T22:48:07Z", "12345678-hot-leads-0"} {
				if !strings.Contains(out, keep) {
					t.Errorf("log line = %s: %s must not be masked", out, keep)
				}
			}
		})
	}
}

func TestNewLoggerRejectsUnknownSettings(t *testing.T) {
	if _, err := NewLogger(&bytes.Buffer{}, "xml", "info", false); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("format xml: err = %v, want an error naming it", err)
	}
	if _, err := NewLogger(&bytes.Buffer{}, "json", "loud", false); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Errorf("level loud: err = %v, want an error naming it", err)
	}
}

// phoneStringer, phoneText and phoneValuer show a phone number through fmt.Stringer,
// encoding.TextMarshaler and slog.LogValuer.
type phoneStringer struct{}

func (phoneStringer) String() string { return "callback +15559876543" }

type phoneText struct{}

func (phoneText) MarshalText() ([]byte, error) { return []byte("callback +15559876543"), nil }

type phoneValuer struct{}

func (phoneValuer) LogValue() slog.Value { return slog.AnyValue(errors.New("callback +15559876543")) }

// TestLoggerMasksPhoneNumbersInEveryValue: whatever type a logged value has, its text is masked. A
// rule's evaluation error quoting the call's data is the case seen in production.
func TestLoggerMasksPhoneNumbersInEveryValue(t *testing.T) {
	_, ruleErr := expr.Eval(`int(note)`, map[string]any{"note": "call +15559876543 back"})
	if ruleErr == nil || !strings.Contains(ruleErr.Error(), "+15559876543") {
		t.Fatalf("expr error = %v, want one quoting the phone number", ruleErr)
	}
	tests := []struct {
		name  string
		value any
	}{
		{"rule error", ruleErr},
		{"wrapped error", fmt.Errorf("render action 0: %w", errors.New("number(call +15559876543 back)"))},
		{"stringer", phoneStringer{}},
		{"text marshaler", phoneText{}},
		{"log valuer", phoneValuer{}},
		{"bytes", []byte("callback +15559876543")},
		{"struct", struct{ Phone string }{"+15559876543"}},
		{"slice", []string{"+15559876543"}},
		{"group", slog.GroupValue(slog.Any("err", errors.New("callback +15559876543")))},
	}
	for _, format := range []string{"text", "json"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				log, err := NewLogger(&buf, format, "info", false)
				if err != nil {
					t.Fatal(err)
				}
				log.Error("evaluate rule", "err", tt.value, "call_id", 15559876543)
				out := buf.String()
				if strings.Contains(out, "+15559876543") || !strings.Contains(out, "+*******6543") {
					t.Errorf("log line = %s\nwant the phone number masked as +*******6543", out)
				}
				if !strings.Contains(out, "15559876543") {
					t.Errorf("log line = %s: the call id 15559876543 must not be masked", out)
				}
			})
		}
	}
}
