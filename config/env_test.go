package config

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/sinks/webhook"
)

func TestExpand(t *testing.T) {
	env := mapEnv(map[string]string{"HOST": "crm.example.com", "EMPTY": "", "ODD": "a: b # c"})
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "no reference", in: "plain text", want: "plain text"},
		{name: "set variable", in: "https://${HOST}/hook", want: "https://crm.example.com/hook"},
		{name: "default unused", in: "${HOST:-other}", want: "crm.example.com"},
		{name: "default for unset", in: "${NOPE:-fallback}", want: "fallback"},
		{name: "default for empty", in: "${EMPTY:-fallback}", want: "fallback"},
		{name: "empty default", in: "x${NOPE:-}y", want: "xy"},
		{name: "default with colons", in: "${NOPE:-http://h:80/p}", want: "http://h:80/p"},
		{name: "set but empty", in: "[${EMPTY}]", want: "[]"},
		{name: "value with yaml syntax kept as is", in: "${ODD}", want: "a: b # c"},
		{name: "double dollar", in: "costs $$5", want: "costs $5"},
		{name: "double dollar before reference", in: "$${HOST}", want: "${HOST}"},
		{name: "dollar before template", in: "$${{ price }}", want: "${{ price }}"},
		{name: "lone dollar kept", in: "$5 and $HOST and $", want: "$5 and $HOST and $"},
		{name: "expr env kept", in: `{{ $env["x"] }}`, want: `{{ $env["x"] }}`},
		{name: "unset", in: "${NOPE}", wantErr: `environment variable "NOPE" is not set (set it, or write ${NOPE:-default})`},
		{name: "unterminated", in: "${HOST", wantErr: "unterminated ${ (close it with }, or write $$ for a literal $)"},
		{name: "invalid name", in: "${1X}", wantErr: `invalid environment variable name "1X" in ${1X} (use letters, digits and _, or write $$ for a literal $)`},
		{name: "empty name", in: "${}", wantErr: `invalid environment variable name "" in ${} (use letters, digits and _, or write $$ for a literal $)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := expand(tt.in, env)
			var gotErr string
			if len(errs) > 0 {
				gotErr = errs[0].msg
			}
			if gotErr != tt.wantErr {
				t.Fatalf("expand(%q) error = %q, want %q", tt.in, gotErr, tt.wantErr)
			}
			if tt.wantErr == "" && got != tt.want {
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseExpandsValuesOnly checks that expansion happens inside values after YAML parsing, so a
// value holding YAML syntax stays one value, lines stay exact, and templates expand too.
func TestParseExpandsValuesOnly(t *testing.T) {
	src := `sinks:
  crm:
    type: webhook
    url: ${CRM_URL}
    headers: { Authorization: "Bearer ${CRM_TOKEN}" }
rules:
  - name: r
    when: status == "${STATUS:-completed}"
    actions:
      - sink: crm
        headers: { X-Env: "${STAGE:-dev}" }
        body:
          stage: ${STAGE:-dev}
          price: "$${{ price }}"
          count: 5
`
	env := mapEnv(map[string]string{"CRM_URL": "https://crm.example.com/h?a=b#frag: x", "CRM_TOKEN": "t0k: #x"})
	cfg, err := Parse("f.yaml", []byte(src), env)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	wh := cfg.Sink("crm").Settings.(*webhook.Settings)
	if got, want := string(wh.URL), "https://crm.example.com/h?a=b#frag: x"; got != want {
		t.Errorf("url = %q, want %q", got, want)
	}
	if got, want := string(wh.Headers["Authorization"]), "Bearer t0k: #x"; got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
	r := cfg.Rules[0]
	if got, want := r.When, (Expr{Text: `status == "completed"`, Line: 8}); got != want {
		t.Errorf("when = %+v, want %+v", got, want)
	}
	a := r.Actions[0]
	if got, want := a.Value("headers").Map[0], (MapEntry{Name: "X-Env", Template: Template{Text: "dev", Line: 11}}); got != want {
		t.Errorf("action header = %+v, want %+v", got, want)
	}
	var body map[string]any
	if err := a.Value("body").Tree.Decode(&body); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	want := map[string]any{"stage": "dev", "price": "${{ price }}", "count": 5}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %#v, want %#v", k, body[k], v)
		}
	}
	if got := a.Value("body").Tree.Content[1].Line; got != 13 {
		t.Errorf("body.stage line = %d, want 13", got)
	}
}

func TestExpandLineInLiteralBlock(t *testing.T) {
	src := "sinks:\n  ops: {type: log}\nrules:\n  - name: r\n    actions:\n      - sink: ops\n        text: |\n          first\n          second ${MISSING}\n"
	_, err := Parse("f.yaml", []byte(src), nil)
	want := `f.yaml:9: rules[0].actions[0].text: environment variable "MISSING" is not set (set it, or write ${MISSING:-default})`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestTreeKeepsStructure(t *testing.T) {
	var doc yaml.Node
	src := "base: &b {a: x}\nlist: [*b, \"${V:-v}\", 3, true]\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	d := &decoder{file: "f", aliasBudget: maxTreeNodes}
	out := d.tree(doc.Content[0].Content[3], "body")
	if len(d.errs) > 0 {
		t.Fatalf("errors: %v", d.errs)
	}
	var got []any
	if err := out.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := []any{map[string]any{"a": "x"}, "v", 3, true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tree = %#v, want %#v", got, want)
	}
	if out.Content[0].Kind != yaml.MappingNode || out.Content[0].Anchor != "" {
		t.Errorf("alias not replaced by a plain copy of what it points to: %+v", out.Content[0])
	}
}
