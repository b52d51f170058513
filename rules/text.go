package rules

import (
	"github.com/expr-lang/expr"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Text is a {{ }} template outside the rules, over an environment of its own (a notification's
// template reads the group of dead deliveries, not a call). It is immutable and safe for concurrent
// use.
type Text struct {
	t *template
}

// CompileText compiles t against env, a map of every name the template may use to a value of the
// type it will have, so that an unknown name is an error now rather than at render time. A problem
// is returned as config.Errors located at t.Line under path, like the rules' templates.
func CompileText(file, path string, t config.Template, env map[string]any) (*Text, error) {
	c := &compiler{file: file, opts: []expr.Option{expr.Env(env)}}
	tpl := c.compileTemplate(t.Text, t.Line, t.Block, path)
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	return &Text{t: tpl}, nil
}

// Render renders the template with env's values, each inserted value passed through esc (the
// escaper of a sink type's text, say); nil inserts values as they are.
func (t *Text) Render(env map[string]any, esc spec.Escaper) (string, error) {
	st := &state{env: env}
	return t.t.render(st, esc)
}
