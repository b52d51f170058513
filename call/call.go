// Package call decodes Intellixent's post-call webhook (docs/intellixent-webhook.md) into the Call that
// rules see.
//
// The decoder is lenient where the sender varies and strict where Switchboard depends on a value:
// unknown fields are accepted (and kept in Raw), transcript may be an array of turns or a plain string,
// any status string is accepted, and nulls are accepted wherever a field is optional. The id must be a
// positive integer, and a known field of the wrong JSON type is an error naming that field.
//
// Decode reads the body in one pass of github.com/go-json-experiment/json's tokenizer (jsontext, the
// implementation of encoding/json/v2) and gives every body the answer the encoding/json decoder it
// replaced gave (testdata/golden.txt; FuzzDecode compares the two). Where v2's defaults differ, Decode
// keeps the old answer on purpose, since Intellixent does not resend a call that got a 400:
//   - Invalid UTF-8 and unpaired surrogate escapes are accepted and become U+FFFD (v2 rejects them).
//   - A known top-level field written twice ("id" twice) or in another case ("ID", "Status") is a 400
//     naming it: the id keys deduplication and deliveries, and a receiver of the forwarded body might read
//     the other copy. An unknown top-level name may repeat.
//   - Below the top level, a repeated name is accepted and the last one wins, as in encoding/json and
//     JavaScript (v2 rejects it, and would merge two objects under one name): {"a":{"x":1},"a":{"y":2}}
//     reads as {"a":{"y":2}}. A transcript turn's keys match text, sender and timestamp in any case, as
//     encoding/json matched them.
//   - A number beyond float64 inside extracted_variables, input_variables, lead, transfers or a turn is
//     an error naming that field; inside an unknown field it is kept in Raw.
//
// The one deliberate change: a syntax error names the position of the first byte that is wrong, counted
// from 0 after leading space ("at byte 6" for {"id" 1}); encoding/json named the position after it.
package call

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
)

// Turn is one utterance of a transcript.
type Turn struct {
	Text string `json:"text" expr:"text"`
	// Sender is "bot" or "human" as Intellixent sends it; empty when the transcript arrived as a string.
	Sender string `json:"sender" expr:"sender"`
	// Timestamp is unix seconds, fractional; zero when unknown.
	Timestamp float64 `json:"timestamp" expr:"timestamp"`
}

// Call is one decoded post-call webhook. Its expr tags are the names rules and templates use.
//
// Nullable strings are pointers: nil means the sender sent null or nothing, so a rule can write
// customer_phone ?? "unknown". The maps are never nil after Decode, so a missing key reads as nil.
type Call struct {
	ID             int64   `expr:"id"`
	CustomerPhone  *string `expr:"customer_phone"`
	AssistantPhone *string `expr:"assistant_phone"`
	Duration       int64   `expr:"duration"`
	Status         string  `expr:"status"`

	ExtractedVariables map[string]any `expr:"extracted_variables"`
	InputVariables     map[string]any `expr:"input_variables"`
	Lead               map[string]any `expr:"lead"`

	// Transcript is the conversation turn by turn. When the sender sent a plain string, it is one turn
	// with an empty Sender, and FormattedTranscript holds the same string if the sender left it empty.
	Transcript          []Turn `expr:"transcript"`
	FormattedTranscript string `expr:"formatted_transcript"`
	RecordingURL        string `expr:"recording_url"`
	CreatedAt           string `expr:"created_at"`
	FinishedAt          string `expr:"finished_at"`
	Transfers           []any  `expr:"transfers"`

	// Raw is the body exactly as received; a webhook action without a body forwards it.
	Raw json.RawMessage `expr:"-"`
}

// FieldError reports a known field that is missing or has the wrong type. Field is the JSON name;
// Msg says what the field must be.
type FieldError struct {
	Field string
	Msg   string
}

// Error implements error as `field "name": what is wrong`.
func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Msg) }

// Decode parses one webhook body. The returned Call keeps body as Raw (not a copy: the caller must not
// modify body afterwards); its strings do not share memory with body. A body that is not a JSON
// object is a plain error; a known field that is missing or of the wrong type is a *FieldError naming
// it. Errors never echo a value from the body.
func Decode(body []byte) (*Call, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("body is empty: expected a JSON object")
	}
	if trimmed[0] != '{' {
		if !jsontext.Value(trimmed).IsValid(decodeOptions...) {
			return nil, errors.New("body is not valid JSON")
		}
		return nil, errors.New("body is not a JSON object")
	}
	return decodeObject(body, trimmed)
}
