// Package rules compiles the `rules:` of a config into a Ruleset and evaluates it against a call: which
// rules match, and every matching action's rendered message.
//
// Evaluate is a pure function of the Ruleset and the call. The HTTP server calls it at ingest and
// `switchboard test` calls it for a dry run, so the two can never disagree.
//
// The language is expr (github.com/expr-lang/expr) over the typed call: `when` is a boolean expression,
// and every action string (and every string inside body and blocks) is a template whose {{ }} parts are
// expressions. docs/rules.md describes it for config authors.
package rules

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
)

// Ruleset is a compiled config's rules. It is immutable and safe for concurrent use.
type Ruleset struct {
	rules []*rule
	names []string
	pool  sync.Pool // of *state
	// console is the prefix of console_url, "" when server.public_url is not set; see consoleBase.
	console string
}

// rule is one compiled rule.
type rule struct {
	name string
	when *vm.Program // nil matches every call
	stop bool
	// whenText and explain serve Explain.
	whenText string
	explain  *explainer
	actions  []*action
}

// Result is what a call does under a Ruleset.
type Result struct {
	// Matched names the matching rules, in file order.
	Matched []string
	// Actions are the matching rules' actions, in file order. An action whose sink is not defined in
	// the config is left out.
	Actions []Action
	// Errors are the rules whose `when` failed at run time (for example, arithmetic on a missing
	// value); such a rule counts as not matched.
	Errors []RuleError
}

// Action is one action of a matching rule, rendered for its sink.
type Action struct {
	Rule string
	// Index is the action's position in its rule's `actions:` as written, so it stays stable for the
	// idempotency key.
	Index    int
	Sink     string
	SinkType string
	// Message is the rendered message; nil when Err is set.
	Message sinks.Message
	// Err, when non-nil, is why this action could not be rendered: a *sinks.Error with Reason
	// sinks.ReasonTemplate and a readable message. The rule's other actions still render.
	Err error
}

// RuleError is a rule whose `when` failed at run time; the rule is treated as not matched.
type RuleError struct {
	Rule string
	Err  error
}

// Error implements error as "rule NAME: when: what went wrong".
func (e RuleError) Error() string { return fmt.Sprintf("rule %q: when: %v", e.Rule, e.Err) }

// state is the per-evaluation scratch space: a reusable expr VM, environment and buffers.
type state struct {
	vm   vm.VM
	call *call.Call
	env  map[string]any // the call's values by name; see fillEnv
	buf  []byte         // scratch for strings
	out  []byte         // scratch for JSON structures
}

func (st *state) run(p *vm.Program) (any, error) { return st.vm.Run(p, st.env) }

// RuleNames returns every rule's name in file order.
func (rs *Ruleset) RuleNames() []string {
	return append([]string(nil), rs.names...)
}

// maxKeptBuffer is the largest scratch buffer kept for the next evaluation; a larger one (a huge
// transcript) is left to the garbage collector.
const maxKeptBuffer = 64 << 10

// Evaluate runs every rule against c in file order and renders the actions of each matching rule.
// All matching rules fire; a matching rule with `stop: true` ends the evaluation. Evaluate does not
// modify c, never panics on call data and never returns nil; a nil c is evaluated as an empty call.
func (rs *Ruleset) Evaluate(c *call.Call) *Result {
	if c == nil {
		c = &call.Call{}
	}
	st, _ := rs.pool.Get().(*state)
	if st == nil {
		st = &state{env: make(map[string]any, len(envTypes))}
	}
	st.call = c
	fillEnv(st.env, c, rs.console)
	defer func() {
		st.call = nil
		clear(st.env)
		st.buf, st.out = st.buf[:0], st.out[:0]
		if cap(st.buf) > maxKeptBuffer {
			st.buf = nil
		}
		if cap(st.out) > maxKeptBuffer {
			st.out = nil
		}
		rs.pool.Put(st)
	}()

	res := &Result{}
	for _, r := range rs.rules {
		if r.when != nil {
			ok, err := st.match(r.when)
			if err != nil {
				res.Errors = append(res.Errors, RuleError{Rule: r.name, Err: err})
				continue
			}
			if !ok {
				continue
			}
		}
		res.Matched = append(res.Matched, r.name)
		if res.Actions == nil {
			res.Actions = make([]Action, 0, len(r.actions))
		}
		for _, a := range r.actions {
			msg, err := a.render(st)
			out := Action{Rule: r.name, Index: a.index, Sink: a.sink, SinkType: a.sinkType, Message: msg}
			if err != nil {
				out.Message = nil
				out.Err = sinks.Permanent(sinks.ReasonTemplate, err)
			}
			res.Actions = append(res.Actions, out)
		}
		if r.stop {
			break
		}
	}
	return res
}

// match runs a `when`. A null result (a missing key) is false; any other non-boolean is an error.
func (st *state) match(p *vm.Program) (bool, error) {
	v, err := st.run(p)
	if err != nil {
		return false, errors.New(runtimeMessage(err))
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	default:
		return false, fmt.Errorf("gave a %s, not true or false: compare it, e.g. with ==", valueWord(v))
	}
}

// compiler collects every problem of one config.
type compiler struct {
	file   string
	errs   config.Errors
	warns  config.Errors
	opts   []expr.Option
	schema *config.Schema
}

func (c *compiler) errorf(line int, path, format string, args ...any) {
	c.errs = append(c.errs, &config.Error{File: c.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Compile compiles every rule's `when` and every action's templates against the typed call. It
// reports every problem at once as config.Errors ("file:line: rules[0].when: what is wrong"); the
// Ruleset is returned only when there is none. An action whose sink is not defined (or has no known
// type) is skipped without an error: config validation reports it.
func Compile(cfg *config.Config) (*Ruleset, error) {
	c := &compiler{file: cfg.File, opts: []expr.Option{expr.Env(envTypes)}, schema: cfg.Schema}
	defer c.addWarnings(cfg)
	rs := &Ruleset{console: consoleBase(cfg.Server.PublicURL)}
	inFile := map[string]int{} // rules seen so far in each file: paths count from 0 in every file
	for _, r := range cfg.Rules {
		c.file = cmp.Or(r.File, cfg.File)
		path := fmt.Sprintf("rules[%d]", inFile[c.file])
		inFile[c.file]++
		cr := &rule{name: r.Name, stop: r.Stop, whenText: r.When.Text, explain: &explainer{}}
		if r.When.Text != "" {
			cr.when = c.compileWhen(r.When, path+".when")
		}
		for j, a := range r.Actions {
			sink := cfg.Sink(a.Sink)
			if sink == nil || sink.Spec == nil {
				continue
			}
			if ca := c.compileAction(a, sink.Spec, fmt.Sprintf("%s.actions[%d]", path, j)); ca != nil {
				ca.index = j
				cr.actions = append(cr.actions, ca)
			}
		}
		rs.rules = append(rs.rules, cr)
		rs.names = append(rs.names, r.Name)
	}
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	return rs, nil
}

// compileWhen compiles a `when`, which must be boolean (or of a type known only at run time, such as
// a map value).
func (c *compiler) compileWhen(t config.Expr, path string) *vm.Program {
	if strings.HasPrefix(strings.TrimSpace(t.Text), "{{") {
		c.errorf(t.Line, path, "write the condition without {{ }}: when is already an expression, e.g. when: status == \"completed\"")
		return nil
	}
	p, err := expr.Compile(t.Text, c.opts...)
	if err != nil {
		c.errorf(t.Line, path, "%s", compileMessage(t.Text, err))
		return nil
	}
	c.checkSchema(t.Text, t.Line, path, "")
	if typ := p.Node().Type(); typ != nil && typ.Kind() != reflect.Bool && typ.Kind() != reflect.Interface {
		c.errorf(t.Line, path, "must be true or false, but gives a %s: compare it, e.g. with ==", typeWord(typ))
		return nil
	}
	return p
}

// compileTemplate compiles one template string. It returns nil after recording an error.
// In a literal block scalar (block), an error is reported on the line of the part at fault.
func (c *compiler) compileTemplate(text string, line int, block bool, path string) *template {
	segs, err := split(text)
	if err != nil {
		c.errorf(line, path, "%s", err.Error())
		return nil
	}
	ok := true
	pos := 0 // where the search for the next part's source starts
	for i := range segs {
		s := &segs[i]
		if s.prog != nil || s.src == "" {
			continue
		}
		if k := strings.Index(text[pos:], s.src); k >= 0 {
			pos += k
		}
		errLine := line
		if block {
			errLine = line + 1 + strings.Count(text[:pos], "\n")
		}
		p, err := expr.Compile(s.src, c.opts...)
		if err != nil {
			c.errorf(errLine, path, "%s", (&templateError{src: "{{ " + s.src + " }}", msg: compileMessage(s.src, err)}).Error())
			ok = false
			continue
		}
		c.checkSchema(s.src, errLine, path, "{{ "+s.src+" }}")
		s.prog = p
	}
	if !ok {
		return nil
	}
	return &template{segs: segs}
}
