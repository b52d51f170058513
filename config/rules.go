package config

import (
	"fmt"
	"net/mail"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	ruleKeys   = []string{"name", "when", "stop", "actions"}
	actionKeys = []string{"sink", "text", "subject", "html", "to", "cc", "headers", "blocks", "body"}
)

func (d *decoder) rules(top *object, cfg *Config) []*Rule {
	n := resolve(top.vals["rules"])
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, "rules", "must be a list of rules (each item starting with \"- name:\"), got %s", kindName(n))
		return nil
	}
	first := map[string]int{}
	var out []*Rule
	for i, item := range n.Content {
		item = resolve(item)
		path := fmt.Sprintf("rules[%d]", i)
		o := d.object(item, path, item.Line, ruleKeys)
		r := &Rule{File: d.file, Line: item.Line}
		if o.bad {
			// Keep a placeholder so that rules[i] in later errors is still the i-th rule of the file.
			out = append(out, r)
			continue
		}
		if !d.str(o, "name", &r.Name) {
			d.missing(o, "name", "")
		} else if !namePattern.MatchString(r.Name) {
			d.errorf(o.lineOf("name"), o.at("name"), "must use only letters, digits, \"_\", \".\" and \"-\" (it is a metric label), got %q", r.Name)
		} else if line, dup := first[r.Name]; dup {
			d.errorf(o.lineOf("name"), o.at("name"), "duplicate rule name %q (first on line %d)", r.Name, line)
		} else {
			first[r.Name] = o.lineOf("name")
		}
		r.When = d.expr(o, "when")
		d.boolean(o, "stop", &r.Stop)
		r.Actions = d.actions(o, cfg)
		out = append(out, r)
	}
	return out
}

func (d *decoder) actions(rule *object, cfg *Config) []*Action {
	n := resolve(rule.vals["actions"])
	if isNull(n) {
		d.missing(rule, "actions", "a rule needs at least one action")
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n.Line, rule.at("actions"), "must be a list of at least one action (each item starting with \"- sink:\")")
		return nil
	}
	var out []*Action
	for j, item := range n.Content {
		item = resolve(item)
		o := d.object(item, fmt.Sprintf("%s.actions[%d]", rule.path, j), item.Line, actionKeys)
		if o.bad {
			// A placeholder without a sink keeps actions[j] aligned with the file.
			out = append(out, &Action{Line: item.Line, SinkLine: item.Line})
			continue
		}
		out = append(out, d.action(o, cfg))
	}
	return out
}

func (d *decoder) action(o *object, cfg *Config) *Action {
	a := &Action{Line: o.line, SinkLine: o.line}
	if k := o.keys["sink"]; k != nil {
		a.SinkLine = k.Line
	}
	hasSink := d.str(o, "sink", &a.Sink)
	a.Text = d.template(o, "text")
	a.Subject = d.template(o, "subject")
	a.HTML = d.template(o, "html")
	a.To = d.addresses(o, "to")
	a.Cc = d.addresses(o, "cc")
	if o.has("headers") {
		h := d.sub(o, "headers", nil)
		a.Headers = map[string]Template{}
		for _, name := range h.order {
			d.checkHeaderName(h, name)
			a.Headers[name] = d.template(h, name)
		}
	}
	if o.has("blocks") {
		a.Blocks = d.tree(o.vals["blocks"], o.at("blocks"))
	}
	if o.has("body") {
		a.Body = d.tree(o.vals["body"], o.at("body"))
	}

	if !hasSink {
		d.missing(o, "sink", "")
		return a
	}
	s := cfg.Sink(a.Sink)
	if s == nil {
		defined := "no sinks are defined"
		if len(cfg.Sinks) > 0 {
			names := make([]string, len(cfg.Sinks))
			for i, s := range cfg.Sinks {
				names[i] = s.Name
			}
			defined = "defined: " + strings.Join(quoteAll(names), ", ")
		}
		d.errorf(o.lineOf("sink"), o.at("sink"), "undefined sink %q (%s)", a.Sink, defined)
		return a
	}
	t := sinkTypeNamed(s.Type)
	if t == nil || t.actionKeys == nil {
		return a
	}
	for _, key := range o.order {
		if key != "sink" && !contains(t.actionKeys, key) {
			d.errorf(o.keys[key].Line, o.at(key), "not used by %s sinks (they take: %s)", t.name, strings.Join(t.actionKeys, ", "))
		}
	}
	if t.checkAction != nil {
		t.checkAction(d, o, a)
	}
	return a
}

// template reads a string template; the zero Template means the key is absent.
func (d *decoder) template(o *object, key string) Template {
	v, ok := d.scalar(o, key)
	if !ok {
		return Template{}
	}
	n := resolve(o.vals[key])
	return Template{Text: v, Line: o.lineOf(key), Block: n != nil && n.Style&yaml.LiteralStyle != 0}
}

// expr reads an expression; the zero Expr means the key is absent.
func (d *decoder) expr(o *object, key string) Expr {
	v, ok := d.scalar(o, key)
	if !ok {
		return Expr{}
	}
	return Expr{Text: v, Line: o.lineOf(key)}
}

// addresses reads to or cc: one template or a list of them, one address each. An entry without
// {{ }} is a literal and must be a valid address.
func (d *decoder) addresses(o *object, key string) []Template {
	n := resolve(o.vals[key])
	if isNull(n) {
		return nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []Template
	for i, item := range items {
		path := o.at(key)
		if n.Kind == yaml.SequenceNode {
			path = fmt.Sprintf("%s[%d]", path, i)
		}
		v, ok := d.scalarNode(item, path)
		if !ok {
			continue
		}
		if !strings.Contains(v, "{{") {
			if _, err := mail.ParseAddress(v); err != nil {
				d.errorf(resolve(item).Line, path, "must be an email address such as \"sales@example.com\" or a {{ }} template, got %q", v)
			}
		}
		out = append(out, Template{Text: v, Line: resolve(item).Line})
	}
	return out
}
