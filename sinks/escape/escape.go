// Package escape holds the escapers several sink types share (spec.Escaper): each appends a value
// from a call made inert for where a sink puts it. A type's own escaping (Slack's markup, say) lives
// in its package.
package escape

import (
	"html"
	"strings"
	"unicode/utf8"
)

// URL makes a value safe in a URL field: it percent-encodes the bytes a URL cannot contain as they
// are (control characters, space, ", <, >, \, ^, `, {, | and }) and keeps everything else, & and %
// included, so a signed URL from the call arrives byte for byte. JSON encoding keeps the value
// inside its string.
func URL(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xF])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

// HTML escapes a value for an HTML body (<, >, &, ' and ").
func HTML(dst []byte, s string) []byte { return append(dst, html.EscapeString(s)...) }

// HeaderLine makes a value safe for an email header (to, cc, subject): CR, LF and every other
// control character become a space, so a value can never start a new header.
func HeaderLine(dst []byte, s string) []byte {
	for _, r := range s {
		if isControl(r) {
			dst = append(dst, ' ')
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// HTTPHeader makes a value safe for an HTTP header value: CR, LF and other control characters
// except tab are removed.
func HTTPHeader(dst []byte, s string) []byte {
	for _, r := range s {
		if r != '\t' && isControl(r) {
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// isControl reports C0 and C1 control characters and the Unicode line and paragraph separators.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029
}
