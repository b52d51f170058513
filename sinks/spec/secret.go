package spec

import (
	"encoding/json"
	"fmt"

	"github.com/switchboard-relay/switchboard/sinks"
)

// Secret is a config value that never prints: fmt, JSON and YAML all show "<secret>". Use string(s)
// to read the value where it is needed.
type Secret string

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return sinks.Redacted
}

// GoString implements fmt.GoStringer, so %#v does not leak either.
func (s Secret) GoString() string { return s.String() }

// Format implements fmt.Formatter so that every verb, not only %v and %s, shows "<secret>": without
// it, fmt.Sprintf("%d", settings) would print the value inside its "%!d(…)" complaint.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, fmt.FormatString(f, 'q'), s.String())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, 's'), s.String())
}

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }
