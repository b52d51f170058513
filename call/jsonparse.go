package call

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// parser reads JSON from s. Every method returns ok=false on input it does not accept.
type parser struct {
	s     string
	i     int
	depth int
}

// maxDepth bounds nesting; deeper input goes to the encoding/json path.
const maxDepth = 200

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) lit(word string) bool {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return true
	}
	return false
}

func (p *parser) null() bool { return p.peek() == 'n' && p.lit("null") }

// value reads any JSON value as encoding/json decodes it into an interface.
func (p *parser) value() (any, bool) {
	switch c := p.peek(); {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		num, ok := p.number()
		if !ok {
			return nil, false
		}
		f, err := strconv.ParseFloat(num, 64)
		return f, err == nil
	}
	return nil, false
}

func (p *parser) object() (map[string]any, bool) {
	if p.depth++; p.depth > maxDepth || !p.eat('{') {
		return nil, false
	}
	defer func() { p.depth-- }()
	m := map[string]any{}
	p.ws()
	if p.eat('}') {
		return m, true
	}
	for {
		p.ws()
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.ws()
		if !p.eat(':') {
			return nil, false
		}
		p.ws()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		p.ws()
		if p.eat(',') {
			continue
		}
		return m, p.eat('}')
	}
}

func (p *parser) array() ([]any, bool) {
	if p.depth++; p.depth > maxDepth || !p.eat('[') {
		return nil, false
	}
	defer func() { p.depth-- }()
	out := []any{}
	p.ws()
	if p.eat(']') {
		return out, true
	}
	for {
		p.ws()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		p.ws()
		if p.eat(',') {
			continue
		}
		return out, p.eat(']')
	}
}

// turns reads the transcript array; a turn's unknown keys are skipped, as encoding/json does.
func (p *parser) turns() ([]Turn, bool) {
	if !p.eat('[') {
		return nil, false
	}
	out := make([]Turn, 0, 16)
	p.ws()
	if p.eat(']') {
		return out, true
	}
	for {
		p.ws()
		var t Turn
		if !p.null() && !p.turn(&t) {
			return nil, false
		}
		out = append(out, t)
		p.ws()
		if p.eat(',') {
			continue
		}
		return out, p.eat(']')
	}
}

func (p *parser) turn(t *Turn) bool {
	if !p.eat('{') {
		return false
	}
	p.ws()
	if p.eat('}') {
		return true
	}
	for {
		p.ws()
		k, ok := p.str()
		if !ok {
			return false
		}
		p.ws()
		if !p.eat(':') {
			return false
		}
		p.ws()
		switch {
		case k == "text" || k == "sender":
			if !p.null() {
				s, ok := p.str()
				if !ok {
					return false
				}
				if k == "text" {
					t.Text = s
				} else {
					t.Sender = s
				}
			}
		case k == "timestamp":
			if !p.null() {
				num, ok := p.number()
				if !ok {
					return false
				}
				f, err := strconv.ParseFloat(num, 64)
				if err != nil {
					return false
				}
				t.Timestamp = f
			}
		case strings.EqualFold(k, "text") || strings.EqualFold(k, "sender") || strings.EqualFold(k, "timestamp"):
			return false
		default:
			if _, ok := p.value(); !ok {
				return false
			}
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		return p.eat('}')
	}
}

// number reads a JSON number and returns its text.
func (p *parser) number() (string, bool) {
	start := p.i
	p.eat('-')
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return "", false
	}
	if p.eat('.') && !p.digits() {
		return "", false
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return "", false
		}
	}
	return p.s[start:p.i], true
}

func (p *parser) digits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// str reads a JSON string. Without escapes it is a substring of p.s and costs no allocation.
func (p *parser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	ascii := true
	for p.i < len(p.s) {
		c := p.s[p.i]
		if plain[c] {
			p.i++
			continue
		}
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		case c == '\\':
			if !ascii && !utf8.ValidString(p.s[start:p.i]) {
				return "", false
			}
			return p.unescape(start)
		case c < 0x20:
			return "", false
		default:
			ascii = false
			p.i++
		}
	}
	return "", false
}

// plain marks the bytes that stand for themselves in a JSON string: printable ASCII except " and \.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape finishes a string that has escapes, from its start.
func (p *parser) unescape(start int) (string, bool) {
	b := make([]byte, 0, p.i-start+16)
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		run := p.i
		for p.i < len(p.s) && (plain[p.s[p.i]] || p.s[p.i] >= utf8.RuneSelf) {
			p.i++
		}
		if chunk := p.s[run:p.i]; chunk != "" {
			if !utf8.ValidString(chunk) {
				return "", false
			}
			b = append(b, chunk...)
		}
		if p.i >= len(p.s) {
			return "", false
		}
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return string(b), true
		case c < 0x20:
			return "", false
		}
		p.i++
		if p.i >= len(p.s) {
			return "", false
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if strings.HasPrefix(p.s[p.i:], `\u`) {
					save := p.i
					p.i += 2
					if r2, ok = p.hex4(); !ok {
						return "", false
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						continue
					}
					p.i = save
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}
