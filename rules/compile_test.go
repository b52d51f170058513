package rules

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/slack"
)

// TestCompileErrors compiles each testdata/compile/*.yaml and compares the errors with the file's
// "# want: " lines, in order.
func TestCompileErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/compile/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d compile cases, want at least 10", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(line, "# want: "); ok {
					want = append(want, w)
				}
			}
			rs, err := Compile(mustParse(t, file))
			if rs != nil {
				t.Errorf("Compile returned a Ruleset with errors")
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Compile error = %v, want config.Errors", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		})
	}
}

// TestCompileSkipsUndefinedSink checks that an action naming an undefined sink is left out without an
// error (config reports it), keeping the other actions' indexes.
func TestCompileSkipsUndefinedSink(t *testing.T) {
	cfg := &config.Config{
		File:  "inline.yaml",
		Sinks: []*config.Sink{{Name: "ops", Type: "slack", Spec: slack.Spec}},
		Rules: []*config.Rule{{
			Name: "r",
			Actions: []*config.Action{
				act{Sink: "missing", Text: config.Template{Text: "{{ nope }}", Line: 3}}.action(),
				act{Sink: "ops", Text: config.Template{Text: "call {{ id }}", Line: 4}}.action(),
			},
		}},
	}
	rs, err := Compile(cfg)
	if err != nil {
		t.Fatalf("Compile = %v, want no error", err)
	}
	res := rs.Evaluate(mustDecodeString(t, `{"id": 9}`))
	if len(res.Actions) != 1 {
		t.Fatalf("got %d actions, want 1", len(res.Actions))
	}
	a := res.Actions[0]
	if a.Sink != "ops" || a.Index != 1 || decoded(a.Message).Text != "call 9" {
		t.Errorf("got action sink %q index %d text %q, want sink \"ops\" index 1 text \"call 9\"", a.Sink, a.Index, decoded(a.Message).Text)
	}
}

func TestRuleNames(t *testing.T) {
	rs := mustLoad(t, "testdata/config.yaml")
	got := strings.Join(rs.RuleNames(), ",")
	want := "vip,hot-leads,failed-calls,scored,retried,customer-spoke-first,audit"
	if got != want {
		t.Errorf("RuleNames() = %s, want %s", got, want)
	}
	rs.RuleNames()[0] = "changed"
	if rs.RuleNames()[0] != "vip" {
		t.Errorf("RuleNames() shares its slice with the Ruleset")
	}
}

// TestRenderErrorIsTemplateReason checks the classification the queue relies on: a render error is
// permanent with reason template.
func TestRenderErrorIsTemplateReason(t *testing.T) {
	rs := mustLoad(t, "testdata/config.yaml")
	res := rs.Evaluate(mustDecode(t, "testdata/payloads/render-error.json"))
	var failed int
	for _, a := range res.Actions {
		if a.Err == nil {
			continue
		}
		failed++
		var se *sinks.Error
		if !errors.As(a.Err, &se) || se.Reason != sinks.ReasonTemplate || se.Retryable {
			t.Errorf("action %s[%d] error = %#v, want a permanent *sinks.Error with reason template", a.Rule, a.Index, a.Err)
		}
		if a.Message != nil {
			t.Errorf("action %s[%d] has both a message and an error", a.Rule, a.Index)
		}
	}
	if failed != 1 {
		t.Errorf("got %d failed actions, want 1", failed)
	}
}

// TestEnvMatchesCall checks that fillEnv sets every name of call.Call's expr tags to that field's value,
// so a field added to call.Call cannot be forgotten by the rules; console_url is the one other name.
func TestEnvMatchesCall(t *testing.T) {
	c := mustDecode(t, "testdata/bench/typical.json")
	c.Transfers = []any{"x"}
	env := map[string]any{}
	fillEnv(env, c, "")
	v := reflect.ValueOf(*c)
	var n int
	for i := range v.NumField() {
		tag := v.Type().Field(i).Tag.Get("expr")
		if tag == "" || tag == "-" {
			continue
		}
		n++
		if tag == consoleURLName {
			t.Errorf("call.Call has a field named %q: the console's link hides it", tag)
		}
		got, ok := env[tag]
		if !ok {
			t.Errorf("fillEnv does not set %q", tag)
			continue
		}
		if want := v.Field(i).Interface(); !reflect.DeepEqual(got, want) || reflect.TypeOf(got) != reflect.TypeOf(envTypes[tag]) {
			t.Errorf("env[%q] = %#v (%T), want %#v (%T)", tag, got, got, want, envTypes[tag])
		}
	}
	if got, ok := env[consoleURLName]; !ok || reflect.TypeOf(got) != reflect.TypeOf(envTypes[consoleURLName]) {
		t.Errorf("env[%q] = %#v (%T), want a %T", consoleURLName, got, got, envTypes[consoleURLName])
	}
	if len(env) != n+1 || len(envTypes) != n+1 {
		t.Errorf("fillEnv sets %d names and envTypes has %d, want the %d of call.Call and console_url", len(env), len(envTypes), n+1)
	}
}
