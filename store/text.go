package store

import (
	"strings"
	"unicode/utf8"
)

// CleanText returns s as stores keep a text field that may quote a payload (a call's status, a
// delivery's last error, an attempt's error): every NUL byte and every run of invalid UTF-8 becomes
// U+FFFD. PostgreSQL's text type rejects both, and the admin API must answer valid JSON; the raw body
// and the rendered message, which are kept as bytes, are never cleaned.
func CleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
