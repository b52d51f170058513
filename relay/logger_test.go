package relay

import (
	"bytes"
	"strings"
	"testing"
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
