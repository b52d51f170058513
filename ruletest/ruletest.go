// Package ruletest runs the tests written in a config's `tests:` list: each test's call goes through
// the compiled rules exactly as a webhook or `switchboard test` would (rules.Ruleset.Evaluate: match
// and render), and what matched and what was rendered are compared with what the test expects.
// Nothing is ever sent.
//
// `switchboard test` prints the results; relay.Load turns failures into problems, so that `check`
// reports them, `serve` refuses to start and a reload is rejected.
package ruletest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Result is the outcome of one test.
type Result struct {
	Name string `json:"name"`
	File string `json:"file"`
	Line int    `json:"line"`
	OK   bool   `json:"ok"`
	// Matched are the rules that matched the test's call, in order.
	Matched  []string  `json:"matched"`
	Failures []Failure `json:"failures,omitempty"`
}

// Failure is one expectation of a test that did not hold.
type Failure struct {
	// Path and Line locate the expectation in the test's file (tests[0].expect.matched).
	Path string `json:"path"`
	Line int    `json:"line"`
	// What says in one line what went wrong.
	What string `json:"what"`
	// Expected and Got are the readable lines of the difference.
	Expected []string `json:"expected,omitempty"`
	Got      []string `json:"got,omitempty"`
}

// Run runs every test of cfg against rs, which must be compiled from cfg.
func Run(cfg *config.Config, rs *rules.Ruleset) []Result {
	out := make([]Result, 0, len(cfg.Tests))
	for _, t := range cfg.Tests {
		out = append(out, runOne(t, rs))
	}
	return out
}

// Failed counts the results that failed.
func Failed(results []Result) int {
	n := 0
	for _, r := range results {
		if !r.OK {
			n++
		}
	}
	return n
}

// Problems returns every failure as a config problem at the expectation's file and line, for `check`,
// `serve` and reloads.
func Problems(results []Result) config.Errors {
	var es config.Errors
	for _, r := range results {
		for _, f := range r.Failures {
			msg := fmt.Sprintf("test %q failed: %s", r.Name, f.What)
			if len(f.Expected) > 0 || len(f.Got) > 0 {
				msg += fmt.Sprintf(" (expected %s; got %s)", strings.Join(f.Expected, ", "), orNothing(f.Got))
			}
			es = append(es, &config.Error{File: r.File, Line: f.Line, Path: f.Path, Msg: msg})
		}
	}
	return es
}

func orNothing(lines []string) string {
	if len(lines) == 0 {
		return "nothing"
	}
	return strings.Join(lines, ", ")
}

func runOne(t *config.Test, rs *rules.Ruleset) Result {
	res := Result{Name: t.Name, File: t.File, Line: t.Line, Matched: []string{}}
	fail := func(f Failure) { res.Failures = append(res.Failures, f) }
	body, where := []byte(t.Call), t.Path+".call"
	if t.Payload != "" {
		where = t.Path + ".payload"
		b, err := os.ReadFile(t.Payload)
		if err != nil {
			fail(Failure{Path: where, Line: t.Line, What: fmt.Sprintf("cannot read the payload %s: %s", shownPath(t), pathError(err))})
			return res
		}
		body = b
	}
	c, err := call.Decode(body)
	if err != nil {
		fail(Failure{Path: where, Line: t.Line, What: "the payload is not a valid call: " + err.Error()})
		return res
	}
	out := rs.Evaluate(c)
	if out.Matched != nil {
		res.Matched = out.Matched
	}
	if t.Matched != nil && !slices.Equal(t.Matched, res.Matched) {
		f := Failure{Path: t.Path + ".expect.matched", Line: t.MatchedLine, What: "the rules that matched differ",
			Expected: []string{list(t.Matched)}, Got: []string{list(res.Matched)}}
		for _, e := range out.Errors {
			f.Got = append(f.Got, fmt.Sprintf("rule %s: its condition failed: %v", e.Rule, e.Err))
		}
		fail(f)
	}
	for _, want := range t.Actions {
		if f, ok := checkAction(want, out.Actions); !ok {
			fail(f)
		}
	}
	res.OK = len(res.Failures) == 0
	return res
}

// pathError is an os error without the Go operation name and the path.
func pathError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// shownPath is the test's payload path relative to the test's file, as it is usually written.
func shownPath(t *config.Test) string {
	if dir, err := filepath.Abs(filepath.Dir(t.File)); err == nil {
		if rel, err := filepath.Rel(dir, t.Payload); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return t.Payload
}

// list formats rule names as [a, b], or [] for none.
func list(names []string) string { return "[" + strings.Join(names, ", ") + "]" }

// checkAction looks for an action to want.Sink whose message passes every check of want.
func checkAction(want *config.ExpectAction, actions []rules.Action) (Failure, bool) {
	f := Failure{Path: want.Path, Line: want.Line}
	var candidates []rendered
	var sent []string
	for _, a := range actions {
		sent = append(sent, a.Sink)
		if a.Sink != want.Sink {
			continue
		}
		if a.Err != nil {
			f.Got = append(f.Got, "failed to render: "+a.Err.Error())
			continue
		}
		candidates = append(candidates, rendered{msg: a.Message, sinkType: a.SinkType})
	}
	if len(candidates) == 0 {
		f.What = fmt.Sprintf("no message was rendered for sink %s", want.Sink)
		f.Expected = []string{"a message to " + want.Sink}
		switch {
		case len(f.Got) > 0:
		case len(sent) == 0:
			f.Got = []string{"no message at all"}
		default:
			f.Got = []string{"messages to " + list(sent)}
		}
		return f, false
	}
	var equals map[string]any
	if want.Equals != nil {
		_ = json.Unmarshal(want.Equals, &equals) // written by config from a mapping: always an object
	}
	for _, m := range candidates {
		if (want.Contains == "" || containsText(m, want.Contains)) && len(diffKeys(m, equals)) == 0 {
			return Failure{}, true
		}
	}
	// Show the difference against the first message to that sink.
	m := candidates[0]
	switch {
	case want.Contains != "" && !containsText(m, want.Contains):
		f.What = fmt.Sprintf("no message to %s contains the expected text", want.Sink)
		f.Expected = []string{fmt.Sprintf("contains %q", want.Contains)}
		f.Got = append(f.Got, shown(m)...)
	default:
		f.What = fmt.Sprintf("the message to %s has other values", want.Sink)
		for _, k := range diffKeys(m, equals) {
			f.Expected = append(f.Expected, k+": "+compact(equals[k]))
			f.Got = append(f.Got, k+": "+gotValue(m, k))
		}
	}
	return f, false
}

// texts returns the parts of m that contains searches: the keys that hold text (see textMembers),
// a string as it is, a structure (blocks, a body) both as JSON and as its string values (so a quote
// or an accent need not be written JSON-escaped).
func texts(m rendered) []string {
	var out []string
	for _, kv := range m.textMembers() {
		var s string
		if json.Unmarshal(kv.Value, &s) == nil {
			out = append(out, s)
			continue
		}
		out = append(out, string(kv.Value))
		var v any
		if json.Unmarshal(kv.Value, &v) == nil {
			out = appendStrings(out, v)
		}
	}
	return out
}

// rendered is a message rendered for a sink type.
type rendered struct {
	msg      sinks.Message
	sinkType string
}

// textMembers returns the keys of m that hold text, in the message's order: templates and structures
// (text, subject, blocks, body), not recipients (to, cc) nor maps of names (headers).
func (m rendered) textMembers() []sinks.Member {
	kinds := map[string]spec.ActionKind{}
	if t := catalog.Lookup(m.sinkType); t != nil {
		for _, k := range catalog.ActionKeys(t) {
			kinds[k.Name] = k.Kind
		}
	}
	var out []sinks.Member
	for _, kv := range m.msg.Members() {
		if k := kinds[kv.Key]; k != spec.ActionAddresses && k != spec.ActionTemplateMap {
			out = append(out, kv)
		}
	}
	return out
}

func appendStrings(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	case map[string]any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	}
	return out
}

func containsText(m rendered, s string) bool {
	for _, t := range texts(m) {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// shown describes m for a failed contains: each key that holds text and is set, cut to a readable
// length.
func shown(m rendered) []string {
	var out []string
	for _, kv := range m.textMembers() {
		v := string(kv.Value)
		var s string
		if json.Unmarshal(kv.Value, &s) == nil {
			v = s
		}
		if v == "" {
			continue
		}
		if r := []rune(v); len(r) > 200 {
			v = string(r[:200]) + "…"
		}
		out = append(out, fmt.Sprintf("%s %q", kv.Key, v))
	}
	if len(out) == 0 {
		out = []string{"an empty message"}
	}
	return out
}

// document is what equals compares with: the JSON body when the message has one (a webhook),
// otherwise the message's own keys (text, subject, html, blocks, to, cc, …).
func document(m rendered) map[string]any {
	var doc map[string]any
	if json.Unmarshal(m.msg, &doc) != nil {
		return map[string]any{}
	}
	if raw, ok := doc["body"]; ok {
		if body, ok := raw.(map[string]any); ok {
			return body
		}
		return map[string]any{}
	}
	return doc
}

// diffKeys returns the keys of want, sorted, whose value in m's document differs or is absent.
func diffKeys(m rendered, want map[string]any) []string {
	if len(want) == 0 {
		return nil
	}
	doc := document(m)
	var diff []string
	for _, k := range sortedKeys(want) {
		if got, ok := doc[k]; !ok || compact(got) != compact(want[k]) {
			diff = append(diff, k)
		}
	}
	return diff
}

// gotValue is key's value in m's document as compact JSON, or "(absent)".
func gotValue(m rendered, key string) string {
	v, ok := document(m)[key]
	if !ok {
		return "(absent)"
	}
	return compact(v)
}

// compact is v as compact JSON, numbers as written: equal values print the same.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var n any
	if json.Unmarshal(b, &n) == nil {
		if b2, err := json.Marshal(n); err == nil {
			return string(b2)
		}
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
