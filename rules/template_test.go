package rules

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // literal parts as-is, expressions as [src]
	}{
		{"plain", "hello", []string{"hello"}},
		{"one", "Hi {{ name }}!", []string{"Hi ", "[name]", "!"}},
		{"adjacent", "{{a}}{{ b }}", []string{"[a]", "[b]"}},
		{"closing braces in a string", `{{ x ?? "}}" }} tail`, []string{`[x ?? "}}"]`, " tail"}},
		{"single quotes with escape", `{{ 'it\'s }}' }}`, []string{`['it\'s }}']`}},
		{"backquotes", "{{ `a}}b` }}", []string{"[`a}}b`]"}},
		{"map literal", `{{ {"a": {"b": 1}}["a"] }}`, []string{`[{"a": {"b": 1}}["a"]]`}},
		{"map literal closing at the end", `{{ {"a": 1}}}`, []string{`[{"a": 1}]`}},
		{"stray closing braces are text", "a }} b", []string{"a }} b"}},
		{"lone", "{{ duration }}", []string{"[duration]"}},
		{"emoji and RTL text", "🔥 {{ id }} مرحبا", []string{"🔥 ", "[id]", " مرحبا"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs, err := split(tt.text)
			if err != nil {
				t.Fatalf("split(%q) error = %v", tt.text, err)
			}
			var got []string
			for _, s := range segs {
				if s.src != "" {
					got = append(got, "["+s.src+"]")
				} else {
					got = append(got, s.lit)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("split(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// evalAction compiles one action for a sink of sinkType and evaluates it against payload.
func evalAction(t testing.TB, sinkType string, a act, payload string) Action {
	t.Helper()
	a.Sink = "s"
	cfg := &config.Config{
		File:  "inline.yaml",
		Sinks: []*config.Sink{{Name: "s", Type: sinkType, Spec: catalog.Lookup(sinkType)}},
		Rules: []*config.Rule{{Name: "r", Actions: []*config.Action{a.action()}}},
	}
	rs, err := Compile(cfg)
	if err != nil {
		t.Fatalf("Compile = %v", err)
	}
	res := rs.Evaluate(mustDecodeString(t, payload))
	if len(res.Actions) != 1 {
		t.Fatalf("got %d actions, want 1", len(res.Actions))
	}
	return res.Actions[0]
}

func tmpl(s string) config.Template { return config.Template{Text: s, Line: 1} }

func yamlNode(t testing.TB, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

const payload = `{"id": 12345, "customer_phone": "+1234567890", "assistant_phone": null, "duration": 125,
 "status": "completed", "extracted_variables": {"score": 0.5, "big": 1e21, "hot": true, "tags": ["a", "<b>"]},
 "input_variables": {"customer_name": "John"},
 "transcript": [{"text": "hi", "sender": "human", "timestamp": 1.5}]}`

func TestFormatInString(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"null is empty", "[{{ assistant_phone }}]", "[]"},
		{"missing key is empty", "[{{ lead.nothing }}]", "[]"},
		{"nullable string", "{{ customer_phone }}", "+1234567890"},
		{"default for null", `{{ assistant_phone ?? "unknown" }}`, "unknown"},
		{"concatenation", `{{ customer_phone + "!" }}`, "+1234567890!"},
		{"nullable equality", `{{ customer_phone == "+1234567890" }} {{ assistant_phone == nil }}`, "true true"},
		{"integer", "{{ duration }}s", "125s"},
		{"whole float", "{{ duration * 1.0 }}", "125"},
		{"fraction", "{{ duration / 2 }}", "62.5"},
		{"shortest float", "{{ 1 / 3 }}", "0.3333333333333333"},
		{"huge float", "{{ extracted_variables.big }}", "1e+21"},
		{"map value number", "{{ extracted_variables.score }}", "0.5"},
		{"bool", "{{ extracted_variables.hot }}", "true"},
		{"list", "{{ extracted_variables.tags }}", `["a","<b>"]`},
		{"map sorted", `{{ {"b": 1, "a": [1, "x", nil]} }}`, `{"a":[1,"x",null],"b":1}`},
		{"turns", "{{ transcript }}", `[{"text":"hi","sender":"human","timestamp":1.5}]`},
		{"turn field", "{{ transcript[0].sender }}", "human"},
		{"expr builtin", "{{ upper(status) }}", "COMPLETED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := evalAction(t, "log", act{Text: tmpl(tt.text)}, payload)
			if a.Err != nil {
				t.Fatalf("render %q: %v", tt.text, a.Err)
			}
			// The log type escapes text the Slack way; none of these values has &, < or > except where wanted.
			want := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(tt.want)
			if decoded(a.Message).Text != want {
				t.Errorf("render %q = %q, want %q", tt.text, decoded(a.Message).Text, want)
			}
		})
	}
}

const hostile = `{"id": 1, "customer_phone": "+1\r\nBcc: x@example.com", "status": "completed",
 "extracted_variables": {"emails": ["a@example.com", "", "b@example.com\r\nBcc: c@example.com"]},
 "input_variables": {"name": "<!channel> & <https://evil|click> \"q\" 'a' 🔥 שלום"}}`

func TestEscaping(t *testing.T) {
	tests := []struct {
		name     string
		sinkType string
		action   act
		check    func(m *msg) (got, want string)
	}{
		{"slack text", "slack", act{Text: tmpl("<!here> {{ input_variables.name }}")},
			func(m *msg) (string, string) {
				return m.Text, `<!here> &lt;!channel&gt; &amp; &lt;https://evil|click&gt; "q" 'a' 🔥 שלום`
			}},
		{"slack blocks", "slack", act{Blocks: yamlNode(t, `[{text: "<{{ input_variables.name }}|x>", raw: "{{ input_variables }}"}]`)},
			func(m *msg) (string, string) {
				return string(m.Blocks), `[{"text":"<&lt;!channel&gt; &amp; &lt;https://evil|click&gt; \"q\" 'a' 🔥 שלום|x>","raw":{"name":"&lt;!channel&gt; &amp; &lt;https://evil|click&gt; \"q\" 'a' 🔥 שלום"}}]`
			}},
		{"email subject", "email", act{Subject: tmpl("Lead\t{{ customer_phone }}")},
			func(m *msg) (string, string) { return m.Subject, "Lead\t+1  Bcc: x@example.com" }},
		{"email to", "email", act{To: []config.Template{tmpl("{{ customer_phone }}"), tmpl("{{ lead.none }}")}},
			func(m *msg) (string, string) { return strings.Join(m.To, ","), "+1  Bcc: x@example.com" }},
		{"email list of addresses", "email", act{Cc: []config.Template{tmpl("{{ extracted_variables.emails }}"), tmpl("{{ lead.none }}")}},
			func(m *msg) (string, string) {
				return strings.Join(m.Cc, ","), "a@example.com,b@example.com  Bcc: c@example.com"
			}},
		{"email html", "email", act{HTML: tmpl("<b>{{ input_variables.name }}</b>")},
			func(m *msg) (string, string) {
				return m.HTML, `<b>&lt;!channel&gt; &amp; &lt;https://evil|click&gt; &#34;q&#34; &#39;a&#39; 🔥 שלום</b>`
			}},
		{"email text", "email", act{Text: tmpl("{{ customer_phone }} <{{ input_variables.name }}>")},
			func(m *msg) (string, string) {
				return m.Text, "+1\r\nBcc: x@example.com <<!channel> & <https://evil|click> \"q\" 'a' 🔥 שלום>"
			}},
		{"webhook header", "webhook", act{Headers: map[string]config.Template{"X-Phone": tmpl("{{ customer_phone }}\t!")}},
			func(m *msg) (string, string) { return m.Headers["X-Phone"], "+1Bcc: x@example.com\t!" }},
		{"webhook body", "webhook", act{Body: yamlNode(t, `{name: "{{ input_variables.name }}", phone: "{{ customer_phone }}"}`)},
			func(m *msg) (string, string) {
				return string(m.Body), `{"name":"<!channel> & <https://evil|click> \"q\" 'a' 🔥 שלום","phone":"+1\r\nBcc: x@example.com"}`
			}},
		{"log text is escaped like slack", "log", act{Text: tmpl("{{ input_variables.name }}")},
			func(m *msg) (string, string) {
				return m.Text, `&lt;!channel&gt; &amp; &lt;https://evil|click&gt; "q" 'a' 🔥 שלום`
			}},
		{"log subject is as given", "log", act{Subject: tmpl("{{ customer_phone }}")},
			func(m *msg) (string, string) { return m.Subject, "+1\r\nBcc: x@example.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := evalAction(t, tt.sinkType, tt.action, hostile)
			if a.Err != nil {
				t.Fatalf("render: %v", a.Err)
			}
			if got, want := tt.check(decoded(a.Message)); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestStructureKeepsTypes(t *testing.T) {
	body := yamlNode(t, `
duration: "{{ duration }}"
duration_text: "{{ duration }}s"
padded: " {{ duration }}"
phone: "{{ assistant_phone }}"
vars: "{{ extracted_variables.tags }}"
literal_int: 7
literal_float: 2.5
literal_bool: true
literal_null: ~
quoted_number: "125"
list: [1, "{{ status }}", {nested: "{{ extracted_variables.hot }}"}]
`)
	a := evalAction(t, "webhook", act{Body: body}, payload)
	if a.Err != nil {
		t.Fatal(a.Err)
	}
	want := `{"duration":125,"duration_text":"125s","padded":" 125","phone":null,"vars":["a","<b>"],` +
		`"literal_int":7,"literal_float":2.5,"literal_bool":true,"literal_null":null,"quoted_number":"125",` +
		`"list":[1,"completed",{"nested":true}]}`
	if string(decoded(a.Message).Body) != want {
		t.Errorf("body:\ngot  %s\nwant %s", decoded(a.Message).Body, want)
	}
	if !json.Valid(decoded(a.Message).Body) {
		t.Errorf("body is not valid JSON: %s", decoded(a.Message).Body)
	}
}

func TestWebhookWithoutBodyForwardsRaw(t *testing.T) {
	raw := " {\"id\": 3,\n \"extra\": {\"x\": [1, 2]}} \n"
	a := evalAction(t, "webhook", act{}, raw)
	if a.Err != nil {
		t.Fatal(a.Err)
	}
	// The call as received, without the whitespace around it (it is embedded in the message).
	if got, want := string(decoded(a.Message).Body), strings.TrimSpace(raw); got != want {
		t.Errorf("body = %q, want the call exactly as received %q", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name     string
		sinkType string
		action   act
		want     string
	}{
		{"nil arithmetic in text", "slack", act{Text: tmpl("{{ lead.bonus + 1 }}")},
			`render text: invalid operation: null + number (a missing value is null: give it a default, e.g. (x ?? 0)) in "{{ lead.bonus + 1 }}"`},
		{"member of missing key in body", "webhook", act{Body: yamlNode(t, `{a: "{{ lead.owner.email }}"}`)},
			`render body: cannot fetch email from null (a missing value is null: give it a default, e.g. (x ?? 0)) in "{{ lead.owner.email }}"`},
		{"not finite in body", "webhook", act{Body: yamlNode(t, `{a: "{{ duration / 0 }}"}`)},
			`render body: a number that is not finite (NaN or infinity) cannot be written as JSON in "{{ duration / 0 }}"`},
		{"index out of range", "email", act{Subject: tmpl("{{ transcript[5].text }}")},
			`render subject: index out of range: 5 (array length is 1) in "{{ transcript[5].text }}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := evalAction(t, tt.sinkType, tt.action, payload)
			if a.Err == nil {
				t.Fatalf("render succeeded with %+v, want error %q", a.Message, tt.want)
			}
			if a.Err.Error() != tt.want {
				t.Errorf("error:\ngot  %s\nwant %s", a.Err, tt.want)
			}
		})
	}
}

func TestLargeTranscript(t *testing.T) {
	line := "Customer: <!channel> & more\n"
	big := strings.Repeat(line, (1<<20)/len(line)+1)
	body, err := json.Marshal(map[string]any{"id": 1, "transcript": big})
	if err != nil {
		t.Fatal(err)
	}
	a := evalAction(t, "slack", act{Text: tmpl("{{ formatted_transcript }}")}, string(body))
	if a.Err != nil {
		t.Fatal(a.Err)
	}
	want := strings.Repeat("Customer: &lt;!channel&gt; &amp; more\n", strings.Count(big, "\n"))
	if decoded(a.Message).Text != want {
		t.Errorf("1 MB transcript: got %d bytes (escaped: %v), want %d bytes", len(decoded(a.Message).Text), !strings.Contains(decoded(a.Message).Text, "<!channel>"), len(want))
	}
}

// TestConcurrentEvaluate checks that one Ruleset serves many goroutines and gives each the same result
// as a lone evaluation (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	rs := mustLoad(t, "testdata/config.yaml")
	payloads := []string{"example", "hostile", "render-error", "vip", "string-transcript"}
	want := map[string][]byte{}
	for _, p := range payloads {
		b, _ := json.Marshal(viewOf(rs.Evaluate(mustDecode(t, "testdata/payloads/"+p+".json"))))
		want[p] = b
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(payloads))
	for range 8 {
		for _, p := range payloads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, _ := json.Marshal(viewOf(rs.Evaluate(mustDecode(t, "testdata/payloads/"+p+".json"))))
				if !bytes.Equal(got, want[p]) {
					errs <- p
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for p := range errs {
		t.Errorf("concurrent Evaluate(%s) differs from a lone one", p)
	}
}
