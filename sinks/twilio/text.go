package twilio

import (
	"unicode"
	"unicode/utf8"
)

// MaxText is the most characters (Unicode code points, not bytes) of a message's text: Twilio refuses
// a longer Body with error 21617. Longer text is cut to MaxText characters ending in Ellipsis.
const MaxText = 1600

// Ellipsis ends a text that was cut.
const Ellipsis = "…"

// cutText returns s cut to MaxText characters, the last of them Ellipsis, or s when it fits. It counts
// and cuts runes, so a multi-byte character is never split.
func cutText(s string) string {
	if utf8.RuneCountInString(s) <= MaxText {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxText-1 {
			return s[:i] + Ellipsis
		}
		n++
	}
	return s // not reached: s has more than MaxText runes
}

// escapeText is the text key's Escaper: SMS has no markup, so a value from the call goes in as it is,
// but control characters are dropped: a tab becomes a space, a line feed stays and the Unicode line
// and paragraph separators become one. A phone shows controls as boxes or not at all, and any
// character outside the GSM-7 alphabet switches the whole message to UCS-2, which more than doubles
// the segments it costs.
func escapeText(dst []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\u2028' || r == '\u2029':
			dst = append(dst, '\n')
		case r == '\t':
			dst = append(dst, ' ')
		case unicode.IsControl(r):
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}
