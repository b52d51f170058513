package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	testKeys         = []string{"name", "payload", "call", "expect"}
	expectKeys       = []string{"matched", "actions"}
	expectActionKeys = []string{"sink", "contains", "equals"}
)

// Test is one entry of `tests:`: a call and what the rules must do with it. `switchboard test` runs
// them, and so do `check`, `serve` and every reload, which refuse a config whose tests fail.
type Test struct {
	Name string
	// File is the file the test is written in (the config file or an included one); Line is the line
	// of its entry there. Path is its key path in that file, such as tests[0].
	File string
	Line int
	Path string
	// Payload is the file holding the call (`payload:`), resolved against File's folder. Empty when
	// the call is written inline.
	Payload string
	// Call is the inline call (`call:`) as JSON; nil when Payload is set.
	Call json.RawMessage
	// Matched is the exact list of rules that must match, in order; nil when `expect.matched` is
	// absent (not checked), empty for `matched: []` (no rule may match).
	Matched     []string
	MatchedLine int
	// Actions are the checks on rendered messages.
	Actions []*ExpectAction
}

// ExpectAction is one entry of a test's `expect.actions`: some action sent to Sink must render a
// message that passes every check given.
type ExpectAction struct {
	Sink string
	Line int
	Path string
	// Contains, when set, must be a substring of the message: its text, subject, HTML, blocks or body.
	Contains string
	// Equals, when set, is a JSON object: each of its keys must have exactly that value in the
	// message's JSON body.
	Equals json.RawMessage
}

// tests reads the `tests:` list of top. It does not check rule and sink names: checkTests does, once
// every file is read.
func (d *decoder) tests(top *object) []*Test {
	n := resolve(top.vals["tests"])
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, "tests", "must be a list of tests (each item starting with \"- name:\"), got %s", kindName(n))
		return nil
	}
	var out []*Test
	for i, item := range n.Content {
		item = resolve(item)
		path := fmt.Sprintf("tests[%d]", i)
		o := d.object(item, path, item.Line, testKeys)
		if o.bad {
			continue
		}
		t := &Test{File: d.file, Line: item.Line, Path: path}
		if !d.str(o, "name", &t.Name) {
			d.missing(o, "name", "")
		}
		switch {
		case o.has("payload") && o.has("call"):
			d.errorf(o.lineOf("call"), o.at("call"), "give either payload (a file) or call (the call written here), not both")
		case o.has("payload"):
			d.path(o, "payload", &t.Payload)
		case o.has("call"):
			t.Call = d.inlineCall(o)
		default:
			d.missing(o, "payload", "or call: the call to test, as a file or written here")
		}
		e := d.sub(o, "expect", expectKeys)
		if !o.has("expect") {
			d.missing(o, "expect", "what the rules must do: matched, actions or both")
		}
		t.Matched, t.MatchedLine = d.matchedList(e)
		t.Actions = d.expectActions(e)
		out = append(out, t)
	}
	return out
}

// inlineCall turns the `call:` mapping into the JSON document Intellixent would post.
func (d *decoder) inlineCall(o *object) json.RawMessage {
	n := resolve(o.vals["call"])
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, o.at("call"), "must be the call as a mapping (id: 1, status: completed, ...), got %s", kindName(n))
		return nil
	}
	tree := d.tree(n, o.at("call"))
	if tree == nil {
		return nil
	}
	v, err := jsonValue(tree)
	if err != nil {
		d.errorf(n.Line, o.at("call"), "%v", err)
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		d.errorf(n.Line, o.at("call"), "cannot be written as JSON: %v", err)
		return nil
	}
	return b
}

// matchedList reads expect.matched: a list of rule names, possibly empty.
func (d *decoder) matchedList(e *object) ([]string, int) {
	n, ok := e.vals["matched"]
	if !ok {
		return nil, 0
	}
	n = resolve(n)
	if isNull(n) {
		return []string{}, n.Line
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, e.at("matched"), "must be a list of rule names, such as [hot-leads] ([] for none), got %s", kindName(n))
		return nil, 0
	}
	out := []string{}
	for i, item := range n.Content {
		if v, ok := d.scalarNode(item, fmt.Sprintf("%s[%d]", e.at("matched"), i)); ok {
			out = append(out, v)
		}
	}
	return out, n.Line
}

func (d *decoder) expectActions(e *object) []*ExpectAction {
	n := resolve(e.vals["actions"])
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, e.at("actions"), "must be a list of checks (each item starting with \"- sink:\"), got %s", kindName(n))
		return nil
	}
	var out []*ExpectAction
	for i, item := range n.Content {
		item = resolve(item)
		path := fmt.Sprintf("%s[%d]", e.at("actions"), i)
		o := d.object(item, path, item.Line, expectActionKeys)
		if o.bad {
			continue
		}
		a := &ExpectAction{Line: item.Line, Path: path}
		if !d.str(o, "sink", &a.Sink) {
			d.missing(o, "sink", "")
		}
		d.str(o, "contains", &a.Contains)
		if o.has("equals") {
			en := resolve(o.vals["equals"])
			if en.Kind != yaml.MappingNode {
				d.errorf(en.Line, o.at("equals"), "must be a mapping of body keys to values, such as { phone: \"+15551234567\" }, got %s", kindName(en))
			} else if tree := d.tree(en, o.at("equals")); tree != nil {
				if v, err := jsonValue(tree); err != nil {
					d.errorf(en.Line, o.at("equals"), "%v", err)
				} else if b, err := json.Marshal(v); err == nil {
					a.Equals = b
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// jsonValue converts a copied YAML tree to a value encoding/json writes as the same document: keys
// are strings, numbers stay numbers, and every other scalar (a date included) is a string.
func jsonValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := jsonValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			return strings.EqualFold(n.Value, "true"), nil
		case "!!int", "!!float":
			v := strings.ReplaceAll(n.Value, "_", "")
			if _, err := strconv.ParseFloat(v, 64); err == nil && json.Valid([]byte(v)) {
				return json.Number(v), nil
			}
			if i, err := strconv.ParseInt(v, 0, 64); err == nil {
				return i, nil
			}
			return n.Value, nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: holds something that is not a value", n.Line)
}

// checkTests checks the names the tests use, once every rule and sink is known: each expected rule
// and each sink must exist, and test names must be unique.
func (d *decoder) checkTests(cfg *Config) {
	var ruleNames, sinkNames []string
	for _, r := range cfg.Rules {
		ruleNames = append(ruleNames, r.Name)
	}
	for _, s := range cfg.Sinks {
		sinkNames = append(sinkNames, s.Name)
	}
	first := map[string]*Test{}
	for _, t := range cfg.Tests {
		d.file = t.File
		if f, dup := first[t.Name]; dup && t.Name != "" {
			d.errorf(t.Line, t.Path+".name", "duplicate test name %q (first at %s:%d)", t.Name, f.File, f.Line)
		} else {
			first[t.Name] = t
		}
		for i, name := range t.Matched {
			if !contains(ruleNames, name) {
				d.errorf(t.MatchedLine, fmt.Sprintf("%s.expect.matched[%d]", t.Path, i), "no rule is named %q%s", name, didYouMean(name, ruleNames))
			}
		}
		for _, a := range t.Actions {
			if a.Sink != "" && !contains(sinkNames, a.Sink) {
				d.errorf(a.Line, a.Path+".sink", "undefined sink %q%s", a.Sink, didYouMean(a.Sink, sinkNames))
			}
		}
	}
	d.file = cfg.File
}

// didYouMean is ` (did you mean "x"?)` for the nearest of names, or "".
func didYouMean(name string, names []string) string {
	lower := make([]string, len(names))
	for i, n := range names {
		lower[i] = strings.ToLower(n)
	}
	if near := Nearest(name, lower, 2); near != "" {
		for i, l := range lower {
			if l == near {
				return fmt.Sprintf(" (did you mean %q?)", names[i])
			}
		}
	}
	return ""
}
