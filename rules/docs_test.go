package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks/logsink"
)

const rulesDoc = "../docs/rules.md"

// The payloads the examples of docs/rules.md run against.
const (
	docFull = `{"id": 1, "customer_phone": "+447700900123", "duration": 125, "status": "completed",
	 "extracted_variables": {"lead_quality": "high", "score": 8.5, "next_action": "Schedule_Demo", "status": true},
	 "formatted_transcript": "Customer: I want to cancel",
	 "transcript": [{"text": "What is the price?", "sender": "human", "timestamp": 1}]}`
	docBare = `{"id": 2, "status": "no-answer"}`
)

// docWhens is what each `when` of docs/rules.md gives on the two payloads. Every `when:` line of the
// document's yaml blocks must be here, and every entry must appear in the document (inDoc, or the
// expression itself): the document is read, not copied.
var docWhens = []struct {
	when       string
	inDoc      string // what the document shows, when it is not the whole expression
	full, bare bool
	failing    bool // the document says this form fails on a missing value: both payloads lack it
}{
	{when: `status == "completed"`, full: true},
	{when: `status in ["failed", "busy", "no-answer"]`, bare: true},
	{when: `duration > 60 && customer_phone != nil`, full: true},
	{when: `extracted_variables.lead_quality in ["high", "medium"]`, full: true},
	{when: `(extracted_variables.score ?? 0) >= 8`, full: true},
	{when: `customer_phone startsWith "+44"`, full: true},
	{when: `formatted_transcript contains "cancel"`, full: true},
	{when: `lower(extracted_variables.next_action ?? "") == "schedule_demo"`, full: true},
	{when: `any(transcript, .sender == "human" && .text matches "(?i)price|cost")`, full: true},
	{when: `len(transcript) > 0 && transcript[0].sender == "human"`, full: true},
	{when: `extracted_variables.status == true`, full: true},
	{when: `extracted_variables.is_hot`},
	{when: `extracted_variables.attempts > 2`, failing: true},
	{when: `(extracted_variables.attempts ?? 0) > 2`},
	{when: `lead.owner?.email == nil`, inDoc: "`lead.owner?.email`", full: true, bare: true},
	{when: `status == "completed" && extracted_variables.lead_quality == "high"`, full: true},
	{when: `customer_phone == "+15550000000"`},
}

// docTexts is what each template of docs/rules.md renders on the full payload; the same rule as
// docWhens applies.
var docTexts = []struct{ text, inDoc, want string }{
	{text: `Call {{ id }} to {{ customer_phone ?? "unknown" }} ended {{ status }} after {{ duration }}s`,
		want: "Call 1 to +447700900123 ended completed after 125s"},
	{text: `Hot lead: {{ upper(input_variables.customer_name ?? "unknown") }}`, want: "Hot lead: UNKNOWN"},
	{text: `{{ "{{" }}`, want: "{{"},
	{text: `Customer said: {{ join(map(filter(transcript, .sender == "human"), .text), " / ") }}`,
		want: "Customer said: What is the price?"},
	{text: `{{ {"a": 1}["a"] }}`, want: "1"},
	{text: `{{ let s = formatted_transcript ?? ""; len(s) > 10 ? join(split(s, "")[:10], "") + "…" : s }}`, want: "Customer: …"},
	{text: `:fire: Hot lead {{ input_variables.customer_name ?? customer_phone }}: {{ extracted_variables.summary }}`,
		want: ":fire: Hot lead +447700900123: "},
	{text: `test call {{ id }}`, want: "test call 1"},
}

// TestDocExamples runs the examples of docs/rules.md as the document shows them: every yaml block is
// read from the file. A block of `when:`, `text:` or `subject:` lines is checked line by line against
// docWhens and docTexts; a `rules:` block must load and compile with log sinks; a `body:` block must
// render to the values its comments give.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatal(err)
	}
	seenWhen, seenText := map[string]bool{}, map[string]bool{}
	for _, b := range readDocBlocks(t, rulesDoc) {
		if b.Lang != "yaml" {
			continue
		}
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(b.Text), &root); err != nil {
			t.Errorf("%s:%d: yaml block does not parse: %v", rulesDoc, b.Line, err)
			continue
		}
		t.Run(fmt.Sprintf("line %d", b.Line), func(t *testing.T) {
			switch first := strings.Fields(b.Text)[0]; first {
			case "rules:":
				compileDocRules(t, b)
				for _, r := range docRules(t, b) {
					seenWhen[r.When.Text] = true
					for _, a := range r.Actions {
						if v := a.Value("text"); v != nil {
							seenText[v.Template.Text] = true
						}
					}
				}
			case "body:":
				checkDocBody(t, b)
			case "schema:":
				cfg, err := config.Parse(rulesDoc, []byte(b.Text), nil)
				if err != nil || cfg.Schema == nil {
					t.Errorf("%s:%d: the schema example does not load: %v", rulesDoc, b.Line, err)
				}
			case "when:", "text:", "subject:":
				for i, line := range strings.Split(strings.TrimSpace(b.Text), "\n") {
					var kv map[string]string
					if err := yaml.Unmarshal([]byte(line), &kv); err != nil {
						t.Errorf("%s:%d: %v", rulesDoc, b.Line+1+i, err)
						continue
					}
					for k, v := range kv {
						if k == "when" {
							seenWhen[v] = true
							checkDocWhen(t, v, b.Line+1+i)
						} else {
							seenText[v] = true
							checkDocText(t, v, b.Line+1+i)
						}
					}
				}
			default:
				t.Errorf("%s:%d: a yaml block this test does not know how to run (it starts with %q)", rulesDoc, b.Line, first)
			}
		})
	}
	for _, w := range docWhens {
		if !seenWhen[w.when] && !strings.Contains(string(doc), cmpOr(w.inDoc, "`"+w.when+"`")) {
			t.Errorf("docWhens has %q, which docs/rules.md no longer shows: remove it", w.when)
		}
	}
	for _, x := range docTexts {
		if !seenText[x.text] && !strings.Contains(string(doc), cmpOr(x.inDoc, "`"+x.text+"`")) {
			t.Errorf("docTexts has %q, which docs/rules.md no longer shows: remove it", x.text)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func checkDocWhen(t *testing.T, when string, line int) {
	for _, w := range docWhens {
		if w.when != when {
			continue
		}
		cfg := &config.Config{File: "doc.yaml", Sinks: []*config.Sink{{Name: "s", Type: "log", Spec: logsink.Spec}},
			Rules: []*config.Rule{{Name: "r", When: config.Expr{Text: when, Line: 1}, Actions: []*config.Action{{Sink: "s"}}}}}
		rs, err := Compile(cfg)
		if err != nil {
			t.Errorf("%s:%d: %q does not compile: %v", rulesDoc, line, when, err)
			return
		}
		for _, c := range []struct {
			body string
			want bool
		}{{docFull, w.full}, {docBare, w.bare}} {
			res := rs.Evaluate(mustDecodeString(t, c.body))
			if got := len(res.Matched) == 1; got != c.want {
				t.Errorf("%s:%d: when %q on %.20s… matched = %v, want %v (errors %v)", rulesDoc, line, when, c.body, got, c.want, res.Errors)
			}
			if failed := len(res.Errors) == 1; failed != w.failing {
				t.Errorf("%s:%d: when %q on %.20s… errors = %v, want failing %v", rulesDoc, line, when, c.body, res.Errors, w.failing)
			}
		}
		return
	}
	t.Errorf("%s:%d: when %q is not in docWhens: add what it gives on docFull and docBare", rulesDoc, line, when)
}

func checkDocText(t *testing.T, text string, line int) {
	for _, x := range docTexts {
		if x.text != text {
			continue
		}
		a := evalAction(t, "email", act{Text: tmpl(text)}, docFull)
		if a.Err != nil {
			t.Errorf("%s:%d: %q: %v", rulesDoc, line, text, a.Err)
		} else if decoded(a.Message).Text != x.want {
			t.Errorf("%s:%d: render %q = %q, want %q", rulesDoc, line, text, decoded(a.Message).Text, x.want)
		}
		return
	}
	t.Errorf("%s:%d: template %q is not in docTexts: add what it renders on docFull", rulesDoc, line, text)
}

var sinkName = regexp.MustCompile(`(?m)^\s*-?\s*sink:\s*([\w.-]+)`)

// docConfig wraps a `rules:` block with a log sink for each sink it names.
func docConfig(b docBlock) string {
	var sinks strings.Builder
	sinks.WriteString("sinks:\n")
	seen := map[string]bool{}
	for _, m := range sinkName.FindAllStringSubmatch(b.Text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			fmt.Fprintf(&sinks, "  %s: {type: log}\n", m[1])
		}
	}
	return b.Text + sinks.String()
}

func docRules(t *testing.T, b docBlock) []*config.Rule {
	cfg, err := config.Parse(fmt.Sprintf("%s:%d", rulesDoc, b.Line), []byte(docConfig(b)), nil)
	if err != nil {
		t.Fatalf("the block does not load: %v", err)
	}
	return cfg.Rules
}

func compileDocRules(t *testing.T, b docBlock) {
	cfg, err := config.Parse(fmt.Sprintf("%s:%d", rulesDoc, b.Line), []byte(docConfig(b)), nil)
	if err != nil {
		t.Fatalf("the block does not load: %v", err)
	}
	if _, err := Compile(cfg); err != nil {
		t.Fatalf("the block does not compile: %v", err)
	}
}

// bodyComment is a body line with a comment: the key and the comment.
var bodyComment = regexp.MustCompile(`^\s*(\w+):.*#\s*(.+)$`)

// promised is the JSON value a comment starts with, or "" when it starts with prose or shows an
// elided value ("…").
func promised(comment string) string {
	dec := json.NewDecoder(strings.NewReader(comment))
	var v json.RawMessage
	if dec.Decode(&v) != nil || strings.Contains(string(v), "…") {
		return ""
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, v); err != nil {
		return ""
	}
	return compact.String()
}

// checkDocBody renders a `body:` block for a webhook and compares each key with the JSON value its
// comment starts with (a comment that does not start with a JSON value is prose, not checked).
func checkDocBody(t *testing.T, b docBlock) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(b.Text), &root); err != nil {
		t.Fatal(err)
	}
	body := root.Content[0].Content[1]
	a := evalAction(t, "webhook", act{Body: body}, docFull)
	if a.Err != nil {
		t.Fatalf("render: %v", a.Err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(decoded(a.Message).Body, &got); err != nil {
		t.Fatalf("body %s: %v", decoded(a.Message).Body, err)
	}
	checked := 0
	for i, line := range strings.Split(b.Text, "\n") {
		m := bodyComment.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		want := promised(m[2])
		if want == "" {
			continue
		}
		checked++
		if g := string(got[m[1]]); g != want {
			t.Errorf("%s:%d: %s renders %s, the document says %s", rulesDoc, b.Line+1+i, m[1], g, want)
		}
	}
	if checked == 0 {
		t.Errorf("%s:%d: no value of the body block was checked", rulesDoc, b.Line)
	}
}
