package teams

import (
	"unicode/utf8"
)

// Escape appends s to dst inert in Teams markdown (an Adaptive Card TextBlock, Fact.Title and
// Fact.Value), so that a value from a call shows as written and formats nothing. It uses CommonMark
// backslash escapes, the only escape the Teams clients honour (HTML entities show literally on the
// mobile clients), and escapes only what can start markup, since an older client shows a backslash
// it does not honour; docs/sinks.md, "type: teams", gives the evidence for each choice:
//
//   - a backslash, *, _, `, ~, [, ] and < are always escaped: emphasis, code, strikethrough,
//     [title](url) links (a link needs "](", which can no longer occur), <autolinks>, HTML tags and
//     <at> mentions;
//   - & is escaped where it starts an entity (&lt;, &#42;), so the entity shows as written;
//   - at the start of the value, where it may begin a line of the card, what would start a block is
//     escaped: a list item ("- ", "+ ", "1. ", "1) "), a heading ("# "), a block quote (">") and a
//     rule or heading underline (a value of only - or = characters);
//   - CR, LF and every other control character (tab included) become a space, a run of them one
//     space: a value never starts a new line, so nothing inside it is ever at the start of one.
//
// Everything else, letters, digits, ( ) and > after the start included, is kept as it is.
func Escape(dst []byte, s string) []byte {
	lineStart := true // only spaces so far: the value may begin a line of the card
	space := false    // the last byte written was a space made from control characters
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isControl(r) {
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			i += size
			continue
		}
		space = false
		if lineStart && r != ' ' {
			lineStart = false
			if n := blockMarker(s[i:]); n >= 0 {
				dst = append(dst, s[i:i+n]...)
				dst = append(dst, '\\', s[i+n])
				i += n + 1
				continue
			}
		}
		switch {
		case r == '\\' || r == '*' || r == '_' || r == '`' || r == '~' || r == '[' || r == ']' || r == '<':
			dst = append(dst, '\\', byte(r))
		case r == '&' && startsEntity(s[i+1:]):
			dst = append(dst, '\\', '&')
		default:
			dst = utf8.AppendRune(dst, r)
		}
		i += size
	}
	return dst
}

// blockMarker returns the index of the character to escape when s, the rest of a value at the start
// of a line, would begin a block: a list item, a heading, a block quote, a rule or a heading
// underline. It returns -1 otherwise.
func blockMarker(s string) int {
	switch c := s[0]; {
	case c == '>':
		return 0
	case c == '-' || c == '+':
		if endsMarker(s[1:]) || (c == '-' && only(s, '-')) {
			return 0
		}
	case c == '=':
		if only(s, '=') {
			return 0
		}
	case c == '#':
		n := 1
		for n < len(s) && s[n] == '#' {
			n++
		}
		if n <= 6 && endsMarker(s[n:]) {
			return 0
		}
	case c >= '0' && c <= '9':
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n < len(s) && (s[n] == '.' || s[n] == ')') && endsMarker(s[n+1:]) {
			return n
		}
	}
	return -1
}

// endsMarker reports whether s, the text after a block marker, lets it start a block: it is empty
// or starts with a space or a control character (which Escape turns into a space).
func endsMarker(s string) bool {
	if s == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r == ' ' || isControl(r)
}

// only reports whether s holds nothing but c, spaces and control characters.
func only(s string, c byte) bool {
	for _, r := range s {
		if r != rune(c) && r != ' ' && !isControl(r) {
			return false
		}
	}
	return true
}

// EscapeString returns s escaped by Escape.
func EscapeString(s string) string {
	return string(Escape(make([]byte, 0, len(s)+8), s))
}

// isControl reports the characters a value may not carry into the card: C0 and C1 controls (CR, LF
// and tab among them) and the Unicode line and paragraph separators.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029
}

// startsEntity reports whether s, the text after an &, makes it an HTML entity or character
// reference as CommonMark reads them: a name or #digits or #x hex digits, then a semicolon.
func startsEntity(s string) bool {
	n := 0
	if len(s) > 0 && s[0] == '#' {
		s = s[1:]
		if len(s) > 0 && (s[0] == 'x' || s[0] == 'X') {
			s = s[1:]
		}
	}
	for n < len(s) && n < 32 && isAlnum(s[n]) {
		n++
	}
	return n > 0 && n < len(s) && s[n] == ';'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
