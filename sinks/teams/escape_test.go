package teams

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is kept", "John Doe wants a demo, (555) 010-0000.", "John Doe wants a demo, (555) 010-0000."},
		{"bold", "**free** money", `\*\*free\*\* money`},
		{"italic", "_urgent_", `\_urgent\_`},
		{"snake case", "next_action", `next\_action`},
		{"link", "[click](https://evil.example)", `\[click\](https://evil.example)`},
		{"code and strikethrough", "`rm` ~~no~~", "\\`rm\\` \\~\\~no\\~\\~"},
		{"backslash cannot undo an escape", `a\*b\`, `a\\\*b\\`},
		{"mention", "<at>Everyone</at>", `\<at>Everyone\</at>`},
		{"autolink and HTML", "<https://evil.example> <b>x</b>", `\<https://evil.example> \<b>x\</b>`},
		{"entity", "AT&amp;T &#42; &lt;", `AT\&amp;T \&#42; \&lt;`},
		{"ampersand alone is kept", "Smith & Sons, R&D", "Smith & Sons, R&D"},
		{"hex character reference", "&#x2A;", `\&#x2A;`},
		{"list item at the start", "- item", `\- item`},
		{"plus list item", "+ item", `\+ item`},
		{"phone number with plus is kept", "+15551234567", "+15551234567"},
		{"negative number is kept", "-5 degrees", "-5 degrees"},
		{"ordered list", "1. first", `1\. first`},
		{"ordered list with paren", "12) first", `12\) first`},
		{"decimal is kept", "3.5 stars", "3.5 stars"},
		{"date is kept", "2026-11-30", "2026-11-30"},
		{"heading", "# Title", `\# Title`},
		{"heading level 3", "### Title", `\### Title`},
		{"hashtag is kept", "#sales", "#sales"},
		{"block quote", "> quoted", `\> quoted`},
		{"greater-than later is kept", "a > b", "a > b"},
		{"rule", "---", `\---`},
		{"rule with spaces", "- - -", `\- - -`},
		{"setext underline", "===", `\===`},
		{"marker after leading spaces", "   - item", `   \- item`},
		{"marker mid-value is kept", "a - b", "a - b"},
		{"newlines become one space", "line one\r\n\r\nline two\nthree", "line one line two three"},
		{"a newline cannot start a list item", "x\r- injected", "x - injected"},
		{"a newline at the start still escapes the marker", "\n- item", ` \- item`},
		{"tab and other controls become spaces", "a\tb\x00c\u2028d\u0085e", "a b c d e"},
		{"unicode is kept", "Zoë 🔥 日本", "Zoë 🔥 日本"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeString(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestEscapeAppends checks that Escape appends to what dst holds, as the rules engine calls it.
func TestEscapeAppends(t *testing.T) {
	got := string(Escape([]byte("**Lead:** "), "_x_"))
	if want := `**Lead:** \_x\_`; got != want {
		t.Errorf("Escape appended %q, want %q", got, want)
	}
}

// FuzzEscape checks what holds for every value: no line break, no unescaped markup character, and
// letters and digits kept in order.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"**x**", "<at>a</at>", "1. x", "\r\n- x", `\`, "&amp;", "a_b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := EscapeString(s)
		if strings.ContainsAny(got, "\r\n") {
			t.Fatalf("Escape(%q) = %q keeps a line break", s, got)
		}
		for i := 0; i < len(got); i++ {
			switch got[i] {
			case '\\':
				i++ // an escape and the character it escapes
				if i == len(got) {
					t.Fatalf("Escape(%q) = %q ends in a lone backslash", s, got)
				}
			case '*', '_', '`', '~', '[', ']', '<':
				t.Fatalf("Escape(%q) = %q has an unescaped %q at %d", s, got, got[i], i)
			}
		}
		if alnum(got) != alnum(s) {
			t.Fatalf("Escape(%q) = %q changed the letters and digits", s, got)
		}
	})
}

func alnum(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && isAlnum(byte(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
