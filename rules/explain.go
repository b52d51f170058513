package rules

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/switchboard-relay/switchboard/call"
)

// Verdict is how one rule decided on a call, with the reason when it did not match. `switchboard
// test` and the web console both show it through String, so they word it the same.
type Verdict struct {
	Rule    string
	Matched bool
	// Failed is the part of the rule's `when` that was false: the first false operand of its
	// top-level `&&`s, or the whole condition. Empty when the rule matched or failed with Err.
	Failed string
	// Got shows the left side of the failed comparison, e.g. `extracted_variables.lead_quality is
	// "medium"`; empty when there is nothing simpler to show.
	Got string
	// Err is set when the `when` failed at run time; the rule counts as not matched.
	Err error
	// StoppedBy names an earlier matching rule with `stop: true`: this rule was not evaluated.
	StoppedBy string
}

// String words the verdict: "matched", "not matched: <condition> is false (<got>)", "not matched: its
// condition failed: <error>" or "not evaluated: rule <name> matched and has stop: true".
func (v Verdict) String() string {
	switch {
	case v.Matched:
		return "matched"
	case v.StoppedBy != "":
		return fmt.Sprintf("not evaluated: rule %s matched and has stop: true", v.StoppedBy)
	case v.Err != nil:
		return "not matched: its condition failed: " + v.Err.Error()
	case v.Got != "":
		return fmt.Sprintf("not matched: %s is false (%s)", v.Failed, v.Got)
	case v.Failed != "":
		return fmt.Sprintf("not matched: %s is false", v.Failed)
	}
	return "not matched"
}

// part is one operand of a `when`'s top-level &&s, compiled on its own to find the one that is false.
type part struct {
	text  string
	prog  *vm.Program
	probe *vm.Program // the left side of a comparison, to show its value; nil when not useful
	left  string
}

// explainer holds a rule's parts, compiled on first use: only explanations need them.
type explainer struct {
	once  sync.Once
	parts []part
}

// comparisons are the operators whose left side is worth showing when they are false.
var comparisons = map[string]bool{
	"==": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true, "in": true, "not in": true,
	"matches": true, "contains": true, "startsWith": true, "endsWith": true,
}

func (e *explainer) compile(when string) []part {
	e.once.Do(func() {
		tree, err := parser.Parse(when)
		if err != nil {
			return
		}
		var conj []ast.Node
		var walk func(n ast.Node)
		walk = func(n ast.Node) {
			if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
				walk(b.Left)
				walk(b.Right)
				return
			}
			conj = append(conj, n)
		}
		walk(tree.Node)
		opts := []expr.Option{expr.Env(envTypes)}
		for _, n := range conj {
			p := part{text: n.String()}
			if p.prog, err = expr.Compile(p.text, opts...); err != nil {
				e.parts = nil
				return
			}
			if b, ok := n.(*ast.BinaryNode); ok && comparisons[b.Operator] {
				switch b.Left.(type) {
				case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode:
				default:
					p.left = b.Left.String()
					p.probe, _ = expr.Compile(p.left, opts...)
				}
			}
			e.parts = append(e.parts, p)
		}
	})
	return e.parts
}

// Explain evaluates every rule against c as Evaluate does and says, for each rule in file order,
// whether it matched and, when not, which part of its condition was false. It renders nothing.
func (rs *Ruleset) Explain(c *call.Call) []Verdict {
	if c == nil {
		c = &call.Call{}
	}
	st := &state{env: make(map[string]any, len(envTypes)), call: c}
	fillEnv(st.env, c, rs.console)
	out := make([]Verdict, 0, len(rs.rules))
	stopped := ""
	for _, r := range rs.rules {
		v := Verdict{Rule: r.name}
		switch {
		case stopped != "":
			v.StoppedBy = stopped
		case r.when == nil:
			v.Matched = true
		default:
			ok, err := st.match(r.when)
			switch {
			case err != nil:
				v.Err = err
			case ok:
				v.Matched = true
			default:
				v.Failed, v.Got = st.why(r)
			}
		}
		if v.Matched && r.stop {
			stopped = r.name
		}
		out = append(out, v)
	}
	return out
}

// why finds the first false part of r's condition and the value of its left side.
func (st *state) why(r *rule) (string, string) {
	for _, p := range r.explain.compile(r.whenText) {
		ok, err := st.match(p.prog)
		if err != nil || ok {
			continue
		}
		if p.probe == nil {
			return p.text, ""
		}
		v, err := st.run(p.probe)
		if err != nil {
			return p.text, ""
		}
		return p.text, p.left + " is " + shortValue(v)
	}
	return r.whenText, ""
}

// shortValue shows a value as a rule author would write it, cut to a readable length.
func shortValue(v any) string {
	if v == nil {
		return "nil (missing)"
	}
	if s, ok := v.(*string); ok {
		if s == nil {
			return "nil (missing)"
		}
		v = *s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 80 {
		cut := 77
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.ReplaceAll(s, "\n", " ")
}
