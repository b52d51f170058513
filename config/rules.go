package config

import (
	"fmt"
	"net/mail"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

var ruleKeys = []string{"name", "when", "stop", "actions"}

// actionKeys are the keys any action may have: sink, and every sink type's action keys.
func actionKeys() []string {
	keys := []string{"sink"}
	for _, k := range catalog.AllActionKeys() {
		keys = append(keys, k.Name)
	}
	return keys
}

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
		o := d.object(item, fmt.Sprintf("%s.actions[%d]", rule.path, j), item.Line, actionKeys())
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
	var typ *spec.Descriptor
	if s := cfg.Sink(a.Sink); hasSink && s != nil {
		typ = s.Spec
	}
	// Each key is read as its sink's type declares it; as every type's would be when the sink is
	// unknown or takes every key.
	keys := catalog.AllActionKeys()
	if typ != nil {
		keys = catalog.ActionKeys(typ)
	}
	for _, name := range o.order {
		if name == "sink" {
			continue
		}
		k := actionKey(keys, name)
		if k == nil {
			k = actionKey(catalog.AllActionKeys(), name)
		}
		if v := d.actionValue(o, *k, typ == nil || !typ.AcceptsAll); v != nil {
			a.Values = append(a.Values, v)
		}
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
	if typ == nil || typ.AcceptsAll {
		return a
	}
	names := make([]string, len(typ.ActionKeys))
	for i, k := range typ.ActionKeys {
		names[i] = k.Name
	}
	for _, key := range o.order {
		if key != "sink" && !contains(names, key) {
			d.errorf(o.keys[key].Line, o.at(key), "not used by %s sinks (they take: %s)", typ.Type, strings.Join(names, ", "))
		}
	}
	for _, k := range typ.ActionKeys {
		if v := a.Value(k.Name); v != nil && k.Kind == spec.ActionTreeList && v.Tree.Kind == yaml.MappingNode {
			msg := "must be a list of " + k.Name
			if k.ListItem != "" {
				msg += fmt.Sprintf(" (each item starting with %q)", k.ListItem)
			}
			d.errorf(v.Tree.Line, o.at(k.Name), "%s, got a mapping", msg)
		}
	}
	for _, k := range typ.ActionKeys {
		if k.Required && !a.Has(k.Name) {
			d.missing(o, k.Name, "")
		}
	}
	if typ.CheckAction != nil {
		for _, p := range typ.CheckAction(a) {
			d.problem(map[string]*object{}, o, p)
		}
	}
	return a
}

func actionKey(keys []spec.ActionKey, name string) *spec.ActionKey {
	for i := range keys {
		if keys[i].Name == name {
			return &keys[i]
		}
	}
	return nil
}

// actionValue reads the action key k from o as its kind says; nil when it is empty. With
// emailLiterals, a literal entry of an ActionAddresses must be an email address.
func (d *decoder) actionValue(o *object, k spec.ActionKey, emailLiterals bool) *ActionValue {
	v := &ActionValue{Name: k.Name, Kind: k.Kind, Line: o.lineOf(k.Name)}
	switch k.Kind {
	case spec.ActionTemplate:
		if v.Template = d.template(o, k.Name); v.Template.Text == "" {
			return nil
		}
	case spec.ActionAddresses:
		if v.Templates = d.addresses(o, k.Name, emailLiterals); len(v.Templates) == 0 {
			return nil
		}
	case spec.ActionTemplateMap:
		if !o.has(k.Name) {
			return nil
		}
		m := d.sub(o, k.Name, nil)
		for _, name := range m.order {
			if k.CheckName != nil {
				if msg := k.CheckName(name); msg != "" {
					d.errorf(m.keys[name].Line, m.at(name), "%s", msg)
				}
			}
			v.Map = append(v.Map, MapEntry{Name: name, Template: d.template(m, name)})
		}
	default:
		if !o.has(k.Name) {
			return nil
		}
		v.Tree = d.tree(o.vals[k.Name], o.at(k.Name))
	}
	return v
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

// addresses reads to or cc: one template or a list of them, one address each. With emailLiterals,
// an entry without {{ }} is a literal and must be a valid email address.
func (d *decoder) addresses(o *object, key string, emailLiterals bool) []Template {
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
		if emailLiterals && !strings.Contains(v, "{{") {
			if _, err := mail.ParseAddress(v); err != nil {
				d.errorf(resolve(item).Line, path, "must be an email address such as \"sales@example.com\" or a {{ }} template, got %q", v)
			}
		}
		out = append(out, Template{Text: v, Line: resolve(item).Line})
	}
	return out
}
