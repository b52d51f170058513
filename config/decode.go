package config

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// decoder walks the YAML node tree, collecting every problem instead of stopping at the first.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	errs   Errors
	// warns are the warnings: what loads but is probably not what the user meant.
	warns Errors
	seen  map[Error]bool
	// suggested holds the paths of keys offered by "did you mean", which are then not also missing.
	suggested map[string]bool
	// merging holds the mappings whose merge keys are being read, to stop a mapping merging itself.
	merging map[*yaml.Node]bool
	// aliasBudget is what remains of maxTreeNodes; below zero, the file expands too much.
	aliasBudget int
}

// errorf records a problem once: a value reached twice through YAML aliases is reported once.
func (d *decoder) errorf(line int, path, format string, args ...any) {
	e := Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
	if d.seen[e] {
		return
	}
	if d.seen == nil {
		d.seen = map[Error]bool{}
	}
	d.seen[e] = true
	d.errs = append(d.errs, &e)
}

// warnf records a warning once, like errorf.
func (d *decoder) warnf(line int, path, format string, args ...any) {
	e := Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...), Warning: true}
	if d.seen[e] {
		return
	}
	if d.seen == nil {
		d.seen = map[Error]bool{}
	}
	d.seen[e] = true
	d.warns = append(d.warns, &e)
}

// object is a YAML mapping whose keys have been checked against the keys its section allows.
type object struct {
	path string
	// line is the line of the key that owns the mapping, where a missing key is reported.
	line int
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
	// order is the keys in file order.
	order []string
	// bad is true when the value was not a mapping at all (already reported), so that the caller
	// reports nothing more about it.
	bad bool
}

// at returns the path of key inside o.
func (o *object) at(key string) string { return join(o.path, key) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// has reports whether key is present with a non-null value.
func (o *object) has(key string) bool {
	n := o.vals[key]
	return n != nil && !isNull(n)
}

// lineOf returns the line of key's value, or of the mapping when key is absent.
func (o *object) lineOf(key string) int {
	if n := o.vals[key]; n != nil {
		return n.Line
	}
	return o.line
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// kindName describes a node's kind for a user, without Go or YAML internals.
func kindName(n *yaml.Node) string {
	switch resolve(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// object checks that n is a mapping whose keys are all in known (nil known accepts any key) and
// returns it. An absent or null n is an empty object. YAML merge keys ("<<: *anchor") are honoured;
// keys written explicitly win over merged ones.
func (d *decoder) object(n *yaml.Node, path string, line int, known []string) *object {
	o := &object{path: path, line: line, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	n = resolve(n)
	if isNull(n) {
		return o
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping of keys to values, got %s%s", kindName(n), shapeHint(n, path))
		o.bad = true
		return o
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "keys must be plain names, got %s", kindName(k))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := o.keys[k.Value]; dup {
			d.errorf(k.Line, join(path, k.Value), "key repeated (first on line %d)", first.Line)
			continue
		}
		if known != nil && !contains(known, k.Value) {
			d.unknownKey(k, path, known)
			continue
		}
		o.keys[k.Value], o.vals[k.Value] = k, v
		o.order = append(o.order, k.Value)
	}
	for _, m := range merges {
		m = resolve(m)
		if d.merging[m] {
			d.errorf(m.Line, path, "merges itself through an alias")
			continue
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			if d.aliasBudget--; d.aliasBudget < 0 {
				if d.aliasBudget == -1 {
					d.errorf(line, path, "merges too much once its aliases are expanded (at most %d values in all)", maxTreeNodes)
				}
				return o
			}
			if d.merging == nil {
				d.merging = map[*yaml.Node]bool{}
			}
			d.merging[n] = true
			merged := d.object(src, path, line, known)
			delete(d.merging, n)
			for _, k := range merged.order {
				if _, ok := o.keys[k]; !ok {
					o.keys[k], o.vals[k] = merged.keys[k], merged.vals[k]
					o.order = append(o.order, k)
				}
			}
		}
	}
	return o
}

// sub returns the mapping at key as an object.
func (d *decoder) sub(o *object, key string, known []string) *object {
	line := o.line
	if k := o.keys[key]; k != nil {
		line = k.Line
	}
	return d.object(o.vals[key], o.at(key), line, known)
}

// scalarNode returns the expanded value of a scalar node and whether it is set: a null, empty or
// empty-after-expansion value is unset, so the default applies.
func (d *decoder) scalarNode(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "must be a single value, got %s%s", kindName(n), shapeHint(n, path))
		return "", false
	}
	v := d.expandNode(n, path)
	return v, v != ""
}
