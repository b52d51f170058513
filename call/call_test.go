package call

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		want  string
		field string // the FieldError's field; empty when the error is about the body as a whole
	}{
		{"empty", "", "body is empty: expected a JSON object", ""},
		{"blank", " \n\t", "body is empty: expected a JSON object", ""},
		{"not JSON", "id=1", "body is not valid JSON", ""},
		{"truncated object", `{"id": 1`, "body is not valid JSON (at byte 8)", ""},
		{"trailing garbage", `{"id": 1} x`, "body is not valid JSON (at byte 10)", ""},
		{"array", `[{"id": 1}]`, "body is not a JSON object", ""},
		{"string", `"call"`, "body is not a JSON object", ""},
		{"null", `null`, "body is not a JSON object", ""},
		{"id missing", `{"status": "completed"}`, `field "id": is required: the call's id, a positive integer`, "id"},
		{"id null", `{"id": null}`, `field "id": is required: the call's id, a positive integer`, "id"},
		{"id zero", `{"id": 0}`, `field "id": must be a positive integer`, "id"},
		{"id negative", `{"id": -5}`, `field "id": must be a positive integer`, "id"},
		{"id float", `{"id": 12.5}`, `field "id": must be a positive integer`, "id"},
		{"id exponent", `{"id": 1e3}`, `field "id": must be a positive integer`, "id"},
		{"id string", `{"id": "12345"}`, `field "id": must be a positive integer`, "id"},
		{"id too large", `{"id": 99999999999999999999}`, `field "id": must be a positive integer`, "id"},
		{"customer_phone number", `{"id": 1, "customer_phone": 1234}`, `field "customer_phone": must be a string or null`, "customer_phone"},
		{"assistant_phone object", `{"id": 1, "assistant_phone": {}}`, `field "assistant_phone": must be a string or null`, "assistant_phone"},
		{"duration string", `{"id": 1, "duration": "125"}`, `field "duration": must be a number of seconds`, "duration"},
		{"duration negative", `{"id": 1, "duration": -1}`, `field "duration": must be a non-negative number of seconds`, "duration"},
		{"status number", `{"id": 1, "status": 3}`, `field "status": must be a string or null`, "status"},
		{"formatted_transcript list", `{"id": 1, "formatted_transcript": []}`, `field "formatted_transcript": must be a string or null`, "formatted_transcript"},
		{"recording_url bool", `{"id": 1, "recording_url": true}`, `field "recording_url": must be a string or null`, "recording_url"},
		{"created_at number", `{"id": 1, "created_at": 1700000000}`, `field "created_at": must be a string or null`, "created_at"},
		{"finished_at number", `{"id": 1, "finished_at": 1700000000}`, `field "finished_at": must be a string or null`, "finished_at"},
		{"extracted_variables list", `{"id": 1, "extracted_variables": []}`, `field "extracted_variables": must be an object`, "extracted_variables"},
		{"input_variables string", `{"id": 1, "input_variables": "x"}`, `field "input_variables": must be an object`, "input_variables"},
		{"lead number", `{"id": 1, "lead": 5}`, `field "lead": must be an object`, "lead"},
		{"transcript object", `{"id": 1, "transcript": {}}`, `field "transcript": must be an array of {text, sender, timestamp} turns or a string`, "transcript"},
		{"transcript turn text number", `{"id": 1, "transcript": [{"text": 5}]}`, `field "transcript": must be an array of {text, sender, timestamp} turns or a string`, "transcript"},
		{"transfers object", `{"id": 1, "transfers": {}}`, `field "transfers": must be an array`, "transfers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("Decode(%s) = %+v, want error %q", tt.body, c, tt.want)
			}
			if c != nil {
				t.Errorf("Decode(%s) returned a call with its error", tt.body)
			}
			if err.Error() != tt.want {
				t.Errorf("Decode(%s) error:\ngot  %s\nwant %s", tt.body, err, tt.want)
			}
			var fe *FieldError
			gotField := ""
			if errors.As(err, &fe) {
				gotField = fe.Field
			}
			if gotField != tt.field {
				t.Errorf("Decode(%s) field = %q, want %q", tt.body, gotField, tt.field)
			}
		})
	}
}

func TestDecodeNeverEchoesValues(t *testing.T) {
	secret := "+15550009999-secret"
	for _, body := range []string{
		`{"id": "` + secret + `"}`,
		`{"id": 1, "duration": "` + secret + `"}`,
		`{"id": 1, "lead": "` + secret + `"}`,
	} {
		if _, err := Decode([]byte(body)); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Decode(%s) error = %v, want an error that does not contain the value", body, err)
		}
	}
}

func ptr(s string) *string { return &s }

func TestDecode(t *testing.T) {
	example, err := os.ReadFile("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
		want Call
	}{
		{"published example", string(example), Call{
			ID: 12345, CustomerPhone: ptr("+1234567890"), AssistantPhone: ptr("+1987654321"), Duration: 125,
			Status: "completed",
			ExtractedVariables: map[string]any{"status": true, "summary": "Customer interested in product demo",
				"lead_quality": "high", "next_action": "schedule_demo"},
			InputVariables: map[string]any{"customer_name": "John Doe", "product_interest": "Pro Plan"},
			Lead:           map[string]any{},
			Transcript: []Turn{
				{Text: "Hello, this is Sarah from Intellixent.", Sender: "bot", Timestamp: 1756812511.3},
				{Text: "Hi, thanks for calling.", Sender: "human", Timestamp: 1756812514.1},
			},
			FormattedTranscript: "AI: Hello, this is Sarah from Intellixent.\nCustomer: Hi, thanks for calling.",
			RecordingURL:        "https://portal.intellixent.ai/storage/recordings/call-12345.mp4",
			CreatedAt:           "2025-01-15T10:30:00.000000Z",
			FinishedAt:          "2025-01-15T10:32:05.000000Z",
		}},
		{"minimal", `{"id": 7}`, Call{ID: 7, ExtractedVariables: map[string]any{}, InputVariables: map[string]any{}, Lead: map[string]any{}}},
		{"nulls everywhere", `{"id": 7, "customer_phone": null, "assistant_phone": null, "duration": null, "status": null,
			"extracted_variables": null, "input_variables": null, "lead": null, "transcript": null, "transfers": null,
			"formatted_transcript": null, "recording_url": null, "created_at": null, "finished_at": null}`,
			Call{ID: 7, ExtractedVariables: map[string]any{}, InputVariables: map[string]any{}, Lead: map[string]any{}}},
		{"transcript as a string", `{"id": 8, "transcript": "Customer: hi\nAI: hello"}`, Call{ID: 8,
			ExtractedVariables: map[string]any{}, InputVariables: map[string]any{}, Lead: map[string]any{},
			Transcript:          []Turn{{Text: "Customer: hi\nAI: hello"}},
			FormattedTranscript: "Customer: hi\nAI: hello"}},
		{"string transcript keeps a given formatted_transcript", `{"id": 8, "transcript": "raw", "formatted_transcript": "nice"}`, Call{ID: 8,
			ExtractedVariables: map[string]any{}, InputVariables: map[string]any{}, Lead: map[string]any{},
			Transcript: []Turn{{Text: "raw"}}, FormattedTranscript: "nice"}},
		{"unknown status and fields", `{"id": 9, "status": "no-answer", "campaign": {"x": 1}, "lead": {"a": [1]}, "transfers": [{"to": "+1"}]}`, Call{ID: 9,
			Status: "no-answer", ExtractedVariables: map[string]any{}, InputVariables: map[string]any{},
			Lead: map[string]any{"a": []any{1.0}}, Transfers: []any{map[string]any{"to": "+1"}}}},
		{"fractional duration", `{"id": 10, "duration": 61.9}`, Call{ID: 10, Duration: 61,
			ExtractedVariables: map[string]any{}, InputVariables: map[string]any{}, Lead: map[string]any{}}},
		{"emoji and RTL", `{"id": 11, "customer_phone": "🔥 שלום", "extracted_variables": {"s": "مرحبا"}}`, Call{ID: 11,
			CustomerPhone: ptr("🔥 שלום"), ExtractedVariables: map[string]any{"s": "مرحبا"}, InputVariables: map[string]any{}, Lead: map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode = %v, want no error", err)
			}
			if !bytes.Equal(got.Raw, []byte(tt.body)) {
				t.Errorf("Raw = %q, want the body as received", got.Raw)
			}
			got.Raw = nil
			if !reflect.DeepEqual(*got, tt.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tt.want)
				t.Errorf("Decode:\ngot  %s\nwant %s", g, w)
			}
		})
	}
}

// fuzzSeeds are FuzzDecode's hand-written seeds; testdata/fuzz/FuzzDecode holds the corpus it found.
var fuzzSeeds = []string{`{"id":1}`, `{"id":1,"transcript":"x"}`, `{"id":-1}`, `[]`, `{"id":1,"lead":null}`,
	`{"id":1,"transcript":[{"text":"a","sender":"bot","timestamp":1.5}]}`, `{"id":1e2}`, "\xff",
	`{"id":2,"lead":{"a":"\ud83d\ude00 \ud800x \u00e9\n\"","b":[true,false,null,-0.5e3,{}]},"Status":"x"}`,
	`{"id":3,"transcript":[null,{"TEXT":"a"},{"text":null,"extra":[1]}],"transfers":[]}`}

// FuzzDecode checks that Decode never panics, that it returns exactly one of a call and an error, that
// a decoded call keeps the body as Raw and has a positive id and non-nil maps, and that it gives the
// same answer as the encoding/json decoder it replaced (reference_test.go), but for the position in a
// syntax error (see the package doc).
func FuzzDecode(f *testing.F) {
	if example, err := os.ReadFile("testdata/example.json"); err == nil {
		f.Add(example)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := Decode(body)
		if (c == nil) == (err == nil) {
			t.Fatalf("Decode(%q) = %v, %v: want exactly one of a call and an error", body, c, err)
		}
		ref, refErr := decodeReference(body)
		if err != nil {
			if refErr == nil {
				t.Fatalf("Decode(%q) error %v, the reference decoded %+v", body, err, ref)
			}
			if got, want := withoutOffset(err.Error()), withoutOffset(refErr.Error()); got != want {
				t.Errorf("Decode(%q) error:\ngot  %s\nwant %s (reference)", body, got, want)
			}
			return
		}
		if c.ID <= 0 || c.Duration < 0 {
			t.Errorf("Decode(%q) id %d duration %d, want positive id and non-negative duration", body, c.ID, c.Duration)
		}
		if c.ExtractedVariables == nil || c.InputVariables == nil || c.Lead == nil {
			t.Errorf("Decode(%q) left a map nil", body)
		}
		if !bytes.Equal(c.Raw, body) {
			t.Errorf("Decode(%q) Raw = %q, want the body", body, c.Raw)
		}
		if refErr != nil || !reflect.DeepEqual(c, ref) {
			t.Errorf("Decode(%q) = %+v\nreference gave %+v, %v", body, c, ref, refErr)
		}
	})
}

// syntaxOffset is the position a syntax error names, which Decode reports differently from the reference.
var syntaxOffset = regexp.MustCompile(`\(at byte [0-9]+\)`)

func withoutOffset(msg string) string { return syntaxOffset.ReplaceAllString(msg, "(at byte N)") }

func TestAmbiguousKnownFields(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"id twice", `{"id":1,"id":2}`, `field "id": appears twice`},
		{"id in another case", `{"ID":5}`, `field "id": is written "ID": field names are lowercase`},
		{"both spellings", `{"id":1,"ID":2}`, `field "id": is written "ID": field names are lowercase`},
		{"status twice", `{"id":1,"status":"completed","status":"failed"}`, `field "status": appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Decode(%s) error = %v, want %q", tt.body, err, tt.want)
			}
		})
	}
	if c, err := Decode([]byte(`{"id":7,"Id_extra":1,"extracted_variables":{"id":3,"ID":4}}`)); err != nil || c.ID != 7 {
		t.Errorf("unknown and nested keys must not count: got %v, %v", c, err)
	}
}
