package call

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeOptions make the tokenizer accept what the sender may send and encoding/json used to accept:
// invalid UTF-8 (and unpaired surrogate escapes) become U+FFFD instead of losing the call, and names
// may repeat, because Decode decides repeated names itself (see the package doc).
var decodeOptions = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)}

// The known fields, in the order their errors are reported when a body has several.
const (
	fID = iota
	fCustomerPhone
	fAssistantPhone
	fDuration
	fStatus
	fFormattedTranscript
	fRecordingURL
	fCreatedAt
	fFinishedAt
	fExtractedVariables
	fInputVariables
	fLead
	fTranscript
	fTransfers
	numFields
)

// knownFields are the JSON names of the known fields, indexed as above.
var knownFields = [numFields]string{"id", "customer_phone", "assistant_phone", "duration", "status",
	"formatted_transcript", "recording_url", "created_at", "finished_at", "extracted_variables",
	"input_variables", "lead", "transcript", "transfers"}

// fieldOf returns the index of a known field name, or -1.
func fieldOf(name string) int {
	switch name {
	case "id":
		return fID
	case "customer_phone":
		return fCustomerPhone
	case "assistant_phone":
		return fAssistantPhone
	case "duration":
		return fDuration
	case "status":
		return fStatus
	case "formatted_transcript":
		return fFormattedTranscript
	case "recording_url":
		return fRecordingURL
	case "created_at":
		return fCreatedAt
	case "finished_at":
		return fFinishedAt
	case "extracted_variables":
		return fExtractedVariables
	case "input_variables":
		return fInputVariables
	case "lead":
		return fLead
	case "transcript":
		return fTranscript
	case "transfers":
		return fTransfers
	}
	return -1
}

// Messages of field errors that more than one place reports.
const (
	msgString     = "must be a string or null"
	msgObject     = "must be an object"
	msgTranscript = "must be an array of {text, sender, timestamp} turns or a string"
)

// decoder reads one body in a single pass of jsontext tokens. A wrong field does not stop it: the rest of
// the body is still read, so that a syntax error anywhere wins over a field error, a repeated or
// differently-cased known name wins over a wrong type, and among wrong types the first in field order
// wins, whatever the order of the keys.
type decoder struct {
	dec *jsontext.Decoder
	// src is one copy of the body: strings without escapes are slices of it, so a call costs one
	// allocation for all of them.
	src    string
	c      *Call
	seen   [numFields]bool
	keyErr *FieldError // the first repeated or differently-cased known name, in key order
	bad    *FieldError // the wrong field of lowest index
	badIdx int
	// outOfRange is set when a number read into a value does not fit a float64.
	outOfRange bool
}

// decodeObject decodes a body whose first non-space byte is '{'; trimmed is body without surrounding space.
func decodeObject(body, trimmed []byte) (*Call, error) {
	r := readers.Get().(*reader)
	defer r.release()
	r.buf = *bytes.NewBuffer(trimmed)
	r.dec.Reset(&r.buf, decodeOptions...)
	d := &decoder{dec: &r.dec, src: string(trimmed), c: &Call{Raw: body}, badIdx: numFields}
	if err := d.object(); err != nil {
		return nil, syntaxError(err)
	}
	if rest := trimmed[d.dec.InputOffset():]; len(rest) > 0 {
		// trimmed ends with no space, so whatever follows the object is an error: report where it starts.
		at := len(trimmed) - len(bytes.TrimLeft(rest, " \t\r\n"))
		return nil, fmt.Errorf("body is not valid JSON (at byte %d)", at)
	}
	if d.keyErr != nil {
		return nil, d.keyErr
	}
	if d.c.ID == 0 && d.badIdx != fID {
		return nil, &FieldError{"id", "is required: the call's id, a positive integer"}
	}
	if d.bad != nil {
		return nil, d.bad
	}
	c := d.c
	for _, m := range []*map[string]any{&c.ExtractedVariables, &c.InputVariables, &c.Lead} {
		if *m == nil {
			*m = map[string]any{}
		}
	}
	if len(c.Transcript) == 1 && c.Transcript[0].Sender == "" && c.FormattedTranscript == "" {
		c.FormattedTranscript = c.Transcript[0].Text
	}
	return c, nil
}

// reader is a tokenizer and its input, kept in readers between calls: a jsontext.Decoder carries buffers
// and state stacks that are cheaper to reuse than to allocate for every call.
type reader struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var readers = sync.Pool{New: func() any { return new(reader) }}

// release forgets the body and returns r to readers.
func (r *reader) release() {
	r.buf = bytes.Buffer{}
	r.dec.Reset(&r.buf)
	readers.Put(r)
}

// syntaxError turns a tokenizer error into the error Decode returns: where, never what (the
// tokenizer's message may quote the body).
func syntaxError(err error) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Errorf("body is not valid JSON (at byte %d)", se.ByteOffset)
	}
	return errors.New("body is not valid JSON")
}

// fail records a wrong field; the one of lowest index is reported.
func (d *decoder) fail(idx int, msg string) {
	if idx < d.badIdx {
		d.badIdx, d.bad = idx, &FieldError{knownFields[idx], msg}
	}
}

// object reads the top-level object. It returns only syntax errors; field errors are recorded.
func (d *decoder) object() error {
	if _, err := d.dec.ReadToken(); err != nil { // {
		return err
	}
	for d.dec.PeekKind() != '}' {
		raw, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		idx := fieldOf(string(raw[1 : len(raw)-1]))
		var name string
		if idx < 0 {
			name = unquote(raw)
			idx = fieldOf(name) // a known name written with escapes
		}
		switch {
		case idx < 0:
			if d.keyErr == nil {
				if f, ok := foldKnown(name); ok {
					d.keyErr = &FieldError{f, fmt.Sprintf("is written %q: field names are lowercase", name)}
				}
			}
			err = d.dec.SkipValue()
		case d.seen[idx]:
			if d.keyErr == nil {
				d.keyErr = &FieldError{knownFields[idx], "appears twice"}
			}
			err = d.dec.SkipValue()
		default:
			d.seen[idx] = true
			err = d.field(idx)
		}
		if err != nil {
			return err
		}
	}
	_, err := d.dec.ReadToken() // }
	return err
}

// str reads the next string, or object name, which must be next.
func (d *decoder) str() (string, error) {
	raw, err := d.dec.ReadValue()
	if err != nil {
		return "", err
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		return unquote(raw), nil
	}
	end := int(d.dec.InputOffset()) - 1 // ReadValue returns the string as it stands in the body
	return d.src[end-len(inner) : end], nil
}

// unquote returns the string that raw, a JSON string as read, stands for; invalid UTF-8 becomes U+FFFD.
func unquote(raw jsontext.Value) string {
	b, _ := jsontext.AppendUnquote(nil, raw) // the only error left is invalid UTF-8, already replaced
	return string(b)
}

// foldKnown returns the known field that name spells in another case ("ID", "Status"), as
// encoding/json would have matched it.
func foldKnown(name string) (string, bool) {
	for _, f := range knownFields {
		if strings.EqualFold(name, f) {
			return f, true
		}
	}
	return "", false
}

// field reads the value of known field idx into d.c. A null is the same as no field at all.
func (d *decoder) field(idx int) error {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return err
	}
	c := d.c
	switch idx {
	case fID:
		return d.id()
	case fCustomerPhone, fAssistantPhone:
		s, ok, err := d.optString(idx)
		if err != nil || !ok {
			return err
		}
		if idx == fCustomerPhone {
			c.CustomerPhone = &s
		} else {
			c.AssistantPhone = &s
		}
		return nil
	case fDuration:
		return d.duration()
	case fStatus, fFormattedTranscript, fRecordingURL, fCreatedAt, fFinishedAt:
		s, _, err := d.optString(idx)
		switch idx {
		case fStatus:
			c.Status = s
		case fFormattedTranscript:
			c.FormattedTranscript = s
		case fRecordingURL:
			c.RecordingURL = s
		case fCreatedAt:
			c.CreatedAt = s
		default:
			c.FinishedAt = s
		}
		return err
	case fExtractedVariables, fInputVariables, fLead:
		m, err := d.optMap(idx)
		switch idx {
		case fExtractedVariables:
			c.ExtractedVariables = m
		case fInputVariables:
			c.InputVariables = m
		default:
			c.Lead = m
		}
		return err
	case fTranscript:
		return d.transcript()
	default: // fTransfers
		return d.transfers()
	}
}

// wrong records a wrong field and skips its value.
func (d *decoder) wrong(idx int, msg string) error {
	d.fail(idx, msg)
	return d.dec.SkipValue()
}

func (d *decoder) id() error {
	if d.dec.PeekKind() == '0' {
		tok, err := d.dec.ReadToken()
		if err != nil {
			return err
		}
		n, perr := strconv.ParseInt(tok.String(), 10, 64)
		if perr != nil || n <= 0 {
			d.fail(fID, "must be a positive integer")
			return nil
		}
		d.c.ID = n
		return nil
	}
	return d.wrong(fID, "must be a positive integer")
}

// optString reads a string; ok is false when the value was not one.
func (d *decoder) optString(idx int) (s string, ok bool, err error) {
	if d.dec.PeekKind() == '"' {
		s, err := d.str()
		return s, true, err
	}
	return "", false, d.wrong(idx, msgString)
}

func (d *decoder) duration() error {
	if d.dec.PeekKind() == '0' {
		tok, err := d.dec.ReadToken()
		if err != nil {
			return err
		}
		switch f, ferr := tok.Float(); {
		case ferr != nil:
			d.fail(fDuration, "must be a number of seconds")
		case f < 0 || f > 1<<53:
			d.fail(fDuration, "must be a non-negative number of seconds")
		default:
			d.c.Duration = int64(f)
		}
		return nil
	}
	return d.wrong(fDuration, "must be a number of seconds")
}

// optMap reads an object of any values (nil when the field is wrong).
func (d *decoder) optMap(idx int) (map[string]any, error) {
	if d.dec.PeekKind() != '{' {
		return nil, d.wrong(idx, msgObject)
	}
	v, err := d.container(idx, msgObject)
	m, _ := v.(map[string]any)
	return m, err
}

func (d *decoder) transfers() error {
	const msg = "must be an array"
	if d.dec.PeekKind() != '[' {
		return d.wrong(fTransfers, msg)
	}
	v, err := d.container(fTransfers, msg)
	d.c.Transfers, _ = v.([]any)
	return err
}

// container reads the object or array that is next, of any values. A number in it beyond float64 makes
// field idx wrong (with msg), and the value nil.
func (d *decoder) container(idx int, msg string) (any, error) {
	d.outOfRange = false
	v, err := d.value()
	if err != nil || !d.outOfRange {
		return v, err
	}
	d.fail(idx, msg)
	return nil, nil
}

func (d *decoder) transcript() error {
	switch d.dec.PeekKind() {
	case '"':
		s, err := d.str()
		d.c.Transcript = []Turn{{Text: s}}
		return err
	case '[':
		return d.turns()
	}
	return d.wrong(fTranscript, msgTranscript)
}

// turns reads the transcript array. Each turn's keys match Turn's fields as encoding/json matched them:
// exactly, else in any case ("TEXT"); a later key overwrites an earlier one, null leaves a field as it
// is, and other keys are ignored.
func (d *decoder) turns() error {
	if _, err := d.dec.ReadToken(); err != nil { // [
		return err
	}
	turns := make([]Turn, 0, 16)
	ok := true
	for d.dec.PeekKind() != ']' {
		var t Turn
		switch d.dec.PeekKind() {
		case 'n':
			if _, err := d.dec.ReadToken(); err != nil {
				return err
			}
		case '{':
			good, err := d.turn(&t)
			if err != nil {
				return err
			}
			ok = ok && good
		default:
			ok = false
			if err := d.dec.SkipValue(); err != nil {
				return err
			}
		}
		turns = append(turns, t)
	}
	if _, err := d.dec.ReadToken(); err != nil { // ]
		return err
	}
	if !ok {
		d.fail(fTranscript, msgTranscript)
		return nil
	}
	d.c.Transcript = turns
	return nil
}

// turn reads one turn object; good is false when a field has the wrong type.
func (d *decoder) turn(t *Turn) (good bool, err error) {
	if _, err := d.dec.ReadToken(); err != nil { // {
		return false, err
	}
	good = true
	for d.dec.PeekKind() != '}' {
		raw, err := d.dec.ReadValue()
		if err != nil {
			return false, err
		}
		dst, isTime := turnField(t, raw)
		kind := d.dec.PeekKind()
		switch {
		case (dst == nil && !isTime) || kind == 'n':
			err = d.dec.SkipValue()
		case dst != nil && kind == '"':
			*dst, err = d.str()
		case isTime && kind == '0':
			var tok jsontext.Token
			if tok, err = d.dec.ReadToken(); err == nil {
				var ferr error
				t.Timestamp, ferr = tok.Float()
				good = good && ferr == nil
			}
		default:
			good = false
			err = d.dec.SkipValue()
		}
		if err != nil {
			return false, err
		}
	}
	_, err = d.dec.ReadToken() // }
	return good, err
}

// turnField returns where the value of a turn's name goes (raw as read, quoted): dst for text and
// sender, isTime for timestamp, neither for other names.
func turnField(t *Turn, raw jsontext.Value) (dst *string, isTime bool) {
	switch string(raw) {
	case `"text"`:
		return &t.Text, false
	case `"sender"`:
		return &t.Sender, false
	case `"timestamp"`:
		return nil, true
	}
	switch name := unquote(raw); {
	case strings.EqualFold(name, "text"):
		return &t.Text, false
	case strings.EqualFold(name, "sender"):
		return &t.Sender, false
	case strings.EqualFold(name, "timestamp"):
		return nil, true
	}
	return nil, false
}

// value reads any JSON value as encoding/json decoded it into an interface: float64 numbers,
// map[string]any objects where a repeated name replaces the earlier value, []any arrays. A number
// beyond float64 sets d.outOfRange.
func (d *decoder) value() (any, error) {
	if d.dec.PeekKind() == '"' {
		return d.str()
	}
	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return nil, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '0':
		f, err := tok.Float()
		if err != nil {
			d.outOfRange = true
		}
		return f, nil
	case '{':
		m := map[string]any{}
		for d.dec.PeekKind() != '}' {
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		_, err := d.dec.ReadToken()
		return m, err
	default: // '['
		out := []any{}
		for d.dec.PeekKind() != ']' {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		_, err := d.dec.ReadToken()
		return out, err
	}
}
