package rules

import (
	"testing"

	"github.com/switchboard-relay/switchboard/config"
)

// TestDocExamples runs the examples of docs/rules.md, so the documentation stays true.
func TestDocExamples(t *testing.T) {
	const full = `{"id": 1, "customer_phone": "+447700900123", "duration": 125, "status": "completed",
	 "extracted_variables": {"lead_quality": "high", "score": 8.5, "next_action": "Schedule_Demo", "status": true},
	 "formatted_transcript": "Customer: I want to cancel",
	 "transcript": [{"text": "What is the price?", "sender": "human", "timestamp": 1}]}`
	const bare = `{"id": 2, "status": "no-answer"}`
	whens := []struct {
		name       string
		when       string
		full, bare bool
		failing    bool // the doc says this form fails on a missing value: both payloads lack it
	}{
		{"status", `status == "completed"`, true, false, false},
		{"in list", `status in ["failed", "busy", "no-answer"]`, false, true, false},
		{"nil check", `duration > 60 && customer_phone != nil`, true, false, false},
		{"map in list", `extracted_variables.lead_quality in ["high", "medium"]`, true, false, false},
		{"default", `(extracted_variables.score ?? 0) >= 8`, true, false, false},
		{"startsWith", `customer_phone startsWith "+44"`, true, false, false},
		{"contains", `formatted_transcript contains "cancel"`, true, false, false},
		{"lower", `lower(extracted_variables.next_action ?? "") == "schedule_demo"`, true, false, false},
		{"any", `any(transcript, .sender == "human" && .text matches "(?i)price|cost")`, true, false, false},
		{"first turn", `len(transcript) > 0 && transcript[0].sender == "human"`, true, false, false},
		{"bool value", `extracted_variables.status == true`, true, false, false},
		{"null when", `extracted_variables.is_hot`, false, false, false},
		{"comparison on missing fails", `extracted_variables.attempts > 2`, false, false, true},
		{"its cure", `(extracted_variables.attempts ?? 0) > 2`, false, false, false},
		{"optional member", `lead.owner?.email == nil`, true, true, false},
	}
	for _, tt := range whens {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{File: "doc.yaml", Sinks: []*config.Sink{{Name: "s", Type: "log"}},
				Rules: []*config.Rule{{Name: "r", When: tmpl(tt.when), Actions: []*config.Action{{Sink: "s"}}}}}
			rs, err := Compile(cfg)
			if err != nil {
				t.Fatalf("Compile(%q) = %v", tt.when, err)
			}
			for _, c := range []struct {
				body    string
				want    bool
				failing bool
			}{{full, tt.full, tt.failing}, {bare, tt.bare, tt.failing}} {
				res := rs.Evaluate(mustDecodeString(t, c.body))
				if got := len(res.Matched) == 1; got != c.want {
					t.Errorf("when %q on %.20s… matched = %v, want %v (errors %v)", tt.when, c.body, got, c.want, res.Errors)
				}
				if failed := len(res.Errors) == 1; failed != c.failing {
					t.Errorf("when %q on %.20s… errors = %v, want failing %v", tt.when, c.body, res.Errors, c.failing)
				}
			}
		})
	}

	texts := []struct{ name, text, want string }{
		{"doc text", `Call {{ id }} to {{ customer_phone ?? "unknown" }} ended {{ status }} after {{ duration }}s`,
			"Call 1 to +447700900123 ended completed after 125s"},
		{"upper", `Hot lead: {{ upper(input_variables.customer_name ?? "unknown") }}`, "Hot lead: UNKNOWN"},
		{"literal braces", `{{ "{{" }} x }}`, "{{ x }}"},
		{"join map filter", `Customer said: {{ join(map(filter(transcript, .sender == "human"), .text), " / ") }}`,
			"Customer said: What is the price?"},
		{"map literal", `{{ {"a": 1}["a"] }}`, "1"},
	}
	for _, tt := range texts {
		t.Run(tt.name, func(t *testing.T) {
			a := evalAction(t, "email", &config.Action{Text: tmpl(tt.text)}, full)
			if a.Err != nil {
				t.Fatal(a.Err)
			}
			if a.Message.Text != tt.want {
				t.Errorf("render %q = %q, want %q", tt.text, a.Message.Text, tt.want)
			}
		})
	}
}
