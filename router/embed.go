package router

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// embedJSON returns stored bytes (a call as received, a rendered message) ready to embed in an API
// answer, which must be valid UTF-8 and valid JSON whatever was stored: invalid UTF-8 sequences are
// replaced with U+FFFD (a run of them with one), and what is then still not JSON is embedded as a JSON string. It returns nil
// for nothing stored.
func embedJSON(raw []byte) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	if !utf8.Valid(raw) {
		raw = []byte(strings.ToValidUTF8(string(raw), "\uFFFD"))
	}
	if json.Valid(raw) {
		return raw
	}
	s, err := json.Marshal(string(raw))
	if err != nil {
		return nil // cannot happen: a string always encodes
	}
	return s
}

// validText returns s with invalid UTF-8 sequences replaced by U+FFFD (an error message may quote
// the bytes a receiver or a payload sent).
func validText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
