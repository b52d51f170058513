package teams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxBody is the largest body Send posts: Teams documents a 28 KB limit for an incoming webhook's
// message (docs/sinks.md, "type: teams"). A Workflows webhook accepts a larger one with 202 and the
// flow then fails to post it, so the limit is checked here, before sending.
const MaxBody = 28 << 10

// CardVersion is the Adaptive Card schema version of the card: the highest Teams renders.
const CardVersion = "1.5"

// Message is what a teams action renders to (see Spec's ActionKeys): the card's text, title and facts,
// values from the call already escaped.
type Message struct {
	Text  string `json:"text"`
	Title string `json:"title,omitempty"`
	Facts facts  `json:"facts,omitempty"`
}

// fact is one line of a FactSet: a name and its value.
type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// facts is an action's facts mapping in the order it was written. It decodes from a JSON object of
// strings, keeping the order of its keys, and encodes back to one.
type facts []fact

// UnmarshalJSON reads a JSON object of strings (or null) keeping its keys' order.
func (f *facts) UnmarshalJSON(b []byte) error {
	*f = nil
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("facts: want a mapping of names to text")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var value string
		if err := dec.Decode(&value); err != nil {
			return fmt.Errorf("facts.%s: want text: %w", name, err)
		}
		*f = append(*f, fact{Title: name, Value: value})
	}
	_, err = dec.Token() // the closing }
	return err
}

// MarshalJSON writes the facts as a JSON object in their order.
func (f facts) MarshalJSON() ([]byte, error) {
	if f == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(x.Title)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(x.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Body is the JSON body posted to Teams: a message with one Adaptive Card attachment, the shape both
// a Workflows webhook (its template "Post to a channel when a webhook request is received" reads
// attachments[].content) and a legacy connector accept.
type Body struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment is the card attachment. ContentURL is always null, yet present: a Workflows trigger
// refuses an attachment without it (TriggerInputSchemaMismatch).
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is the Adaptive Card: the title, the text and the facts, in that order.
type Card struct {
	Type    string    `json:"type"`
	Schema  string    `json:"$schema"`
	Version string    `json:"version"`
	Body    []Element `json:"body"`
}

// Element is a TextBlock or a FactSet of the card's body.
type Element struct {
	Type   string `json:"type"`
	Text   string `json:"text,omitempty"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Facts  []fact `json:"facts,omitempty"`
}

// card returns the Body for m: a bold, medium title when m has one, the text (wrapped) and a FactSet
// when m has facts.
func card(m *Message) *Body {
	var els []Element
	if m.Title != "" {
		els = append(els, Element{Type: "TextBlock", Text: m.Title, Weight: "bolder", Size: "medium", Wrap: true})
	}
	els = append(els, Element{Type: "TextBlock", Text: m.Text, Wrap: true})
	if len(m.Facts) > 0 {
		els = append(els, Element{Type: "FactSet", Facts: m.Facts})
	}
	return &Body{Type: "message", Attachments: []Attachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: Card{Type: "AdaptiveCard", Schema: "http://adaptivecards.io/schemas/adaptive-card.json",
			Version: CardVersion, Body: els},
	}}}
}

// encode returns the JSON of m's card, refusing a message without text and a card over MaxBody: the
// action's templates must render less, so no retry can help.
func encode(m *Message) ([]byte, error) {
	if m.Text == "" {
		return nil, errTemplate("the message has no text: give the action a text that renders to something")
	}
	// Without HTML escaping, < and > stay one byte each: the size checked is the size Teams reads.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(card(m)); err != nil {
		return nil, errTemplate("encode card: " + err.Error())
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(body) > MaxBody {
		return nil, errTemplate(fmt.Sprintf("the card is %d bytes, Teams takes at most %d (28 KB): shorten the action's text, title or facts",
			len(body), MaxBody))
	}
	return body, nil
}

// noticeMessage renders a notification (dead letters, a sink down or back) as a teams message: the
// subject as the title and the text, escaped line by line, as paragraphs (Teams markdown joins lines
// that one newline separates). A first line that repeats the subject is left out.
func noticeMessage(subject, text string) *Message {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > 1 && strings.TrimSpace(lines[0]) == strings.TrimSpace(subject) {
		lines = lines[1:]
	}
	var b []byte
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(b) > 0 {
			b = append(b, "\n\n"...)
		}
		b = Escape(b, line)
	}
	return &Message{Title: EscapeString(subject), Text: string(b)}
}
