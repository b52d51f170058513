package call

import (
	"strconv"
	"strings"
)

// decodeFast is Decode's fast path: one pass over the body, with strings sharing one copy of it. It
// handles well-formed payloads of the expected shape and reports ok=false for anything else (invalid
// JSON, a field of the wrong type, a duplicate or differently-cased known key, deep nesting), and
// Decode then runs the encoding/json path, which produces the error or the same Call. FuzzDecode
// checks that both paths agree.
func decodeFast(body, trimmed []byte) (*Call, bool) {
	p := &parser{s: string(trimmed)}
	c := &Call{Raw: body}
	if !p.eat('{') {
		return nil, false
	}
	var seen uint32
	p.ws()
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			p.ws()
			key, ok := p.str()
			if !ok {
				return nil, false
			}
			p.ws()
			if !p.eat(':') {
				return nil, false
			}
			p.ws()
			bit, known := fieldBits[key]
			if !known && isKnownFold(key) {
				return nil, false
			}
			if known {
				if seen&bit != 0 {
					return nil, false
				}
				seen |= bit
				if !p.field(c, key) {
					return nil, false
				}
			} else if _, ok := p.value(); !ok {
				return nil, false
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return nil, false
		}
	}
	p.ws()
	if p.i != len(p.s) || c.ID <= 0 {
		return nil, false
	}
	for _, m := range []*map[string]any{&c.ExtractedVariables, &c.InputVariables, &c.Lead} {
		if *m == nil {
			*m = map[string]any{}
		}
	}
	if len(c.Transcript) == 1 && c.Transcript[0].Sender == "" && c.FormattedTranscript == "" {
		c.FormattedTranscript = c.Transcript[0].Text
	}
	return c, true
}

var fieldBits = func() map[string]uint32 {
	m := map[string]uint32{}
	for i, f := range knownFields {
		m[f] = 1 << i
	}
	return m
}()

// isKnownFold reports a key that encoding/json would match to a known field case-insensitively.
func isKnownFold(key string) bool {
	for _, f := range knownFields {
		if strings.EqualFold(key, f) {
			return true
		}
	}
	return false
}

// field decodes one known field into c.
func (p *parser) field(c *Call, key string) bool {
	switch key {
	case "id":
		num, ok := p.number()
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(num, 10, 64)
		c.ID = n
		return err == nil
	case "customer_phone", "assistant_phone":
		if p.null() {
			return true
		}
		s, ok := p.str()
		if key == "customer_phone" {
			c.CustomerPhone = &s
		} else {
			c.AssistantPhone = &s
		}
		return ok
	case "duration":
		if p.null() {
			return true
		}
		num, ok := p.number()
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < 0 || f > 1<<53 {
			return false
		}
		c.Duration = int64(f)
		return true
	case "status", "formatted_transcript", "recording_url", "created_at", "finished_at":
		if p.null() {
			return true
		}
		s, ok := p.str()
		switch key {
		case "status":
			c.Status = s
		case "formatted_transcript":
			c.FormattedTranscript = s
		case "recording_url":
			c.RecordingURL = s
		case "created_at":
			c.CreatedAt = s
		default:
			c.FinishedAt = s
		}
		return ok
	case "extracted_variables", "input_variables", "lead":
		if p.null() {
			return true
		}
		if p.peek() != '{' {
			return false
		}
		m, ok := p.object()
		switch key {
		case "extracted_variables":
			c.ExtractedVariables = m
		case "input_variables":
			c.InputVariables = m
		default:
			c.Lead = m
		}
		return ok
	case "transcript":
		switch p.peek() {
		case 'n':
			return p.null()
		case '"':
			s, ok := p.str()
			c.Transcript = []Turn{{Text: s}}
			return ok
		case '[':
			var ok bool
			c.Transcript, ok = p.turns()
			return ok
		}
		return false
	case "transfers":
		if p.null() {
			return true
		}
		if p.peek() != '[' {
			return false
		}
		var ok bool
		c.Transfers, ok = p.array()
		return ok
	}
	return false
}
