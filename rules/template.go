package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/vm"
)

// segment is one piece of a template: literal text, or an expression whose value is inserted.
type segment struct {
	lit  string
	prog *vm.Program // nil for literal text
	src  string      // the expression as written, for messages
}

// template is a compiled string template: literal text with {{ expr }} parts.
type template struct {
	segs []segment
}

// lone reports whether the template is exactly one {{ }} and nothing else, so that inside body and
// blocks it keeps the value's type.
func (t *template) lone() bool {
	return len(t.segs) == 1 && t.segs[0].prog != nil
}

// templateError is a problem in one {{ }} part, located by the part's source.
type templateError struct {
	src string // the part as written, "{{ ... }}"
	msg string
}

// Error implements error as "what is wrong in \"{{ the part }}\"".
func (e *templateError) Error() string {
	if e.src == "" {
		return e.msg
	}
	return e.msg + " in " + quoteShort(e.src)
}

// quoteShort quotes s for a message, cutting it to a readable length.
func quoteShort(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%q", s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// split cuts text into literal and expression parts. An expression runs from "{{" to the first "}}"
// that is outside string literals and outside (), [] and {} groups, so `{{ {"a": 1}["a"] }}` and
// `{{ "}}" }}` parse as written. A "}}" without an opening "{{" is literal text.
func split(text string) ([]segment, error) {
	var segs []segment
	rest := text
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			if rest != "" {
				segs = append(segs, segment{lit: rest})
			}
			return segs, nil
		}
		if open > 0 {
			segs = append(segs, segment{lit: rest[:open]})
		}
		body := rest[open+2:]
		end, err := exprEnd(body)
		if err != nil {
			return nil, &templateError{src: rest[open:], msg: err.Error()}
		}
		src := strings.TrimSpace(body[:end])
		if src == "" {
			return nil, &templateError{src: rest[open : open+2+end+2], msg: "empty {{ }}: write an expression such as {{ customer_phone }}"}
		}
		segs = append(segs, segment{src: src})
		rest = body[end+2:]
	}
}

// exprEnd returns the index in s of the "}}" that closes an expression.
func exprEnd(s string) (int, error) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			quote = c
		case '(', '[', '{':
			depth++
		case ')', ']':
			if depth > 0 {
				depth--
			}
		case '}':
			if depth == 0 && i+1 < len(s) && s[i+1] == '}' {
				return i, nil
			}
			if depth > 0 {
				depth--
			}
		}
	}
	if quote != 0 {
		return 0, errors.New(`unterminated string: close the quote, then close the expression with "}}"`)
	}
	return 0, errors.New(`unclosed "{{": close the expression with "}}"`)
}

// appendString renders t as a string onto dst. Literal text is copied as written; each inserted value
// is formatted (see formatValue) and passed through esc.
func (t *template) appendString(st *state, dst []byte, esc escaper) ([]byte, error) {
	for i := range t.segs {
		s := &t.segs[i]
		if s.prog == nil {
			dst = append(dst, s.lit...)
			continue
		}
		v, err := st.run(s.prog)
		if err != nil {
			return dst, &templateError{src: "{{ " + s.src + " }}", msg: runtimeMessage(err)}
		}
		if dst, err = appendFormatted(dst, v, esc); err != nil {
			return dst, &templateError{src: "{{ " + s.src + " }}", msg: err.Error()}
		}
	}
	return dst, nil
}

// render renders t to a new string.
func (t *template) render(st *state, esc escaper) (string, error) {
	if len(t.segs) == 1 && t.segs[0].prog == nil {
		return t.segs[0].lit, nil
	}
	start := len(st.buf)
	var err error
	st.buf, err = t.appendString(st, st.buf, esc)
	out := string(st.buf[start:])
	st.buf = st.buf[:start]
	return out, err
}
