package call

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file keeps the encoding/json decoder that Decode replaced, as an oracle: FuzzDecode checks that
// Decode gives every body the same answer, except where the package doc says it deliberately differs.

// decodeReference is the decoder of record before jsontext: Decode as it was.
func decodeReference(body []byte) (*Call, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("body is empty: expected a JSON object")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return nil, errors.New("body is not valid JSON")
		}
		return nil, errors.New("body is not a JSON object")
	}
	return decodeSlow(body, trimmed)
}

// wire mirrors the payload with every known field deferred, so each can be checked and reported by name.
type wire struct {
	ID                  json.RawMessage `json:"id"`
	CustomerPhone       json.RawMessage `json:"customer_phone"`
	AssistantPhone      json.RawMessage `json:"assistant_phone"`
	Duration            json.RawMessage `json:"duration"`
	Status              json.RawMessage `json:"status"`
	ExtractedVariables  json.RawMessage `json:"extracted_variables"`
	InputVariables      json.RawMessage `json:"input_variables"`
	Lead                json.RawMessage `json:"lead"`
	Transcript          json.RawMessage `json:"transcript"`
	FormattedTranscript json.RawMessage `json:"formatted_transcript"`
	RecordingURL        json.RawMessage `json:"recording_url"`
	CreatedAt           json.RawMessage `json:"created_at"`
	FinishedAt          json.RawMessage `json:"finished_at"`
	Transfers           json.RawMessage `json:"transfers"`
}

// decodeSlow decodes with encoding/json, field by field, so that every error names its field.
func decodeSlow(body, trimmed []byte) (*Call, error) {
	var w wire
	if err := json.Unmarshal(trimmed, &w); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("body is not valid JSON (at byte %d)", syn.Offset)
		}
		return nil, errors.New("body is not valid JSON")
	}
	if err := checkKnownKeys(trimmed); err != nil {
		return nil, err
	}
	c := &Call{Raw: body}
	var err error
	if c.ID, err = decodeID(w.ID); err != nil {
		return nil, err
	}
	if c.CustomerPhone, err = optString("customer_phone", w.CustomerPhone); err != nil {
		return nil, err
	}
	if c.AssistantPhone, err = optString("assistant_phone", w.AssistantPhone); err != nil {
		return nil, err
	}
	if c.Duration, err = optInt("duration", w.Duration); err != nil {
		return nil, err
	}
	strs := []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{
		{"status", w.Status, &c.Status},
		{"formatted_transcript", w.FormattedTranscript, &c.FormattedTranscript},
		{"recording_url", w.RecordingURL, &c.RecordingURL},
		{"created_at", w.CreatedAt, &c.CreatedAt},
		{"finished_at", w.FinishedAt, &c.FinishedAt},
	}
	for _, s := range strs {
		p, err := optString(s.name, s.raw)
		if err != nil {
			return nil, err
		}
		if p != nil {
			*s.dst = *p
		}
	}
	maps := []struct {
		name string
		raw  json.RawMessage
		dst  *map[string]any
	}{
		{"extracted_variables", w.ExtractedVariables, &c.ExtractedVariables},
		{"input_variables", w.InputVariables, &c.InputVariables},
		{"lead", w.Lead, &c.Lead},
	}
	for _, m := range maps {
		if *m.dst, err = optMap(m.name, m.raw); err != nil {
			return nil, err
		}
	}
	if c.Transcript, err = decodeTranscript(w.Transcript); err != nil {
		return nil, err
	}
	if len(c.Transcript) == 1 && c.Transcript[0].Sender == "" && c.FormattedTranscript == "" {
		c.FormattedTranscript = c.Transcript[0].Text
	}
	if !isNull(w.Transfers) {
		if err := json.Unmarshal(w.Transfers, &c.Transfers); err != nil {
			return nil, &FieldError{"transfers", "must be an array"}
		}
	}
	return c, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func decodeID(raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, &FieldError{"id", "is required: the call's id, a positive integer"}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n <= 0 {
		return 0, &FieldError{"id", "must be a positive integer"}
	}
	return n, nil
}

func optString(name string, raw json.RawMessage) (*string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, &FieldError{name, "must be a string or null"}
	}
	return &s, nil
}

func optInt(name string, raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, &FieldError{name, "must be a number of seconds"}
	}
	if f < 0 || f > 1<<53 {
		return 0, &FieldError{name, "must be a non-negative number of seconds"}
	}
	return int64(f), nil
}

func optMap(name string, raw json.RawMessage) (map[string]any, error) {
	m := map[string]any{}
	if isNull(raw) {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &FieldError{name, "must be an object"}
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func decodeTranscript(raw json.RawMessage) ([]Turn, error) {
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, &FieldError{"transcript", "must be an array of turns or a string"}
		}
		return []Turn{{Text: s}}, nil
	}
	var turns []Turn
	if err := json.Unmarshal(raw, &turns); err != nil {
		return nil, &FieldError{"transcript", "must be an array of {text, sender, timestamp} turns or a string"}
	}
	return turns, nil
}

// checkKnownKeys rejects a known field written twice or in another case ("ID"): encoding/json would
// take the last one, or match case-insensitively, while a receiver of the forwarded body may read the
// first or the exact one, and the call id that deduplicates and keys deliveries must be unambiguous.
// Only the top level is checked; obj must be a valid JSON object.
func checkKnownKeys(obj []byte) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		for _, f := range knownFields {
			if !strings.EqualFold(key, f) {
				continue
			}
			if key != f {
				return &FieldError{f, fmt.Sprintf("is written %q: field names are lowercase", key)}
			}
			if seen[f] {
				return &FieldError{f, "appears twice"}
			}
			seen[f] = true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}
