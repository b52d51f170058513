package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxTreeNodes bounds the values of all blocks and body structures, and the mappings merged with
// "<<", once aliases are expanded, so that a "billion laughs" file cannot exhaust time or memory.
const maxTreeNodes = 100_000

// expandError is a problem with one ${…} reference, at a byte offset of the string.
type expandError struct {
	offset int
	msg    string
}

// expand replaces ${VAR} and ${VAR:-default} with values from lookup and $$ with $. Any other $ is
// kept as written. ${VAR:-default} uses default when VAR is unset or empty, as the shell does;
// ${VAR} with VAR set to "" is "". The default runs to the first "}" and is not itself expanded.
func expand(s string, lookup func(string) (string, bool)) (string, []expandError) {
	return expandRefs(s, lookup, nil)
}

// expandRefs is expand, calling empty (when not nil) with the byte offset and the text of each
// reference, as written, that expanded to an empty string.
func expandRefs(s string, lookup func(string) (string, bool), empty func(offset int, ref string)) (string, []expandError) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	var errs []expandError
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				errs = append(errs, expandError{i, "unterminated ${ (close it with }, or write $$ for a literal $)"})
				b.WriteString(s[i:])
				return b.String(), errs
			}
			ref := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(ref, ":-")
			switch v, set := lookup(name); {
			case !validEnvName(name):
				errs = append(errs, expandError{i, fmt.Sprintf("invalid environment variable name %q in ${%s} (use letters, digits and _, or write $$ for a literal $)", name, ref)})
			case set && (v != "" || !hasDef):
				b.WriteString(v)
				if v == "" && empty != nil {
					empty(i, "${"+ref+"}")
				}
			case hasDef:
				b.WriteString(def)
				if def == "" && empty != nil {
					empty(i, "${"+ref+"}")
				}
			default:
				errs = append(errs, expandError{i, fmt.Sprintf("environment variable %q is not set (set it, or write ${%s:-default})", name, name)})
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), errs
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// expandNode expands the value of scalar n, reporting each bad reference at its own line when the
// scalar is a literal block (|), and at the scalar's line otherwise.
func (d *decoder) expandNode(n *yaml.Node, path string) string {
	lookup := d.lookup
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	v, errs := expand(n.Value, lookup)
	for _, e := range errs {
		line := n.Line
		if n.Style&yaml.LiteralStyle != 0 {
			line += 1 + strings.Count(n.Value[:e.offset], "\n")
		}
		d.errorf(line, path, "%s", e.msg)
	}
	return v
}

// warnEmptyRefs warns about each ${…} reference in the secret at key that expands to an empty
// string: a secret missing part of itself (a "Bearer " with no token) fails at delivery, or, when it
// is all gone, silently turns a feature off (no signing secret means unsigned requests).
func (d *decoder) warnEmptyRefs(o *object, key string) {
	n := resolve(o.vals[key])
	if n == nil || n.Kind != yaml.ScalarNode {
		return
	}
	lookup := d.lookup
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	expandRefs(n.Value, lookup, func(offset int, ref string) {
		line := n.Line
		if n.Style&yaml.LiteralStyle != 0 {
			line += 1 + strings.Count(n.Value[:offset], "\n")
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(ref, "${"), "}"), ":-")
		d.warnf(line, o.at(key), "%s expands to an empty string (set %s, or take the reference out of this secret)", ref, name)
	})
}

// tree returns a copy of a template structure (blocks, body) with aliases replaced by what they
// point to and ${…} expanded in every string scalar. Mapping keys are kept as written.
func (d *decoder) tree(n *yaml.Node, path string) *yaml.Node {
	if d.aliasBudget < 0 {
		return nil // already reported
	}
	var cyclic bool
	out := d.copyTree(n, path, map[*yaml.Node]bool{}, &cyclic)
	switch {
	case cyclic:
		d.errorf(n.Line, path, "contains itself through an alias; YAML aliases here may only repeat other values")
		return nil
	case d.aliasBudget < 0:
		d.errorf(n.Line, path, "is too large once its aliases are expanded (blocks and body hold at most %d values in all)", maxTreeNodes)
		return nil
	}
	return out
}

// copyTree copies n for tree, spending d.aliasBudget on every node; open holds the nodes being
// copied, so that a node met inside itself sets *cyclic instead of recursing forever.
func (d *decoder) copyTree(n *yaml.Node, path string, open map[*yaml.Node]bool, cyclic *bool) *yaml.Node {
	n = resolve(n)
	if open[n] {
		*cyclic = true
		return nil
	}
	if d.aliasBudget--; d.aliasBudget < 0 || *cyclic {
		return nil
	}
	open[n] = true
	defer delete(open, n)
	c := *n
	c.Anchor = ""
	c.Content = nil
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			c.Value = d.expandNode(n, path)
		}
	case yaml.MappingNode:
		// Explicit keys first (a repeated one is an error, as everywhere in the config), then the
		// pairs of merge keys ("<<: *anchor" or a list of them) whose keys are not already there.
		seen := map[string]*yaml.Node{}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Value == "<<" && k.ShortTag() == "!!merge" {
				merges = append(merges, n.Content[i+1])
				continue
			}
			if first, ok := seen[k.Value]; ok {
				d.errorf(k.Line, join(path, k.Value), "key repeated (first on line %d)", first.Line)
				continue
			}
			seen[k.Value] = k
			kc := *k
			kc.Anchor = ""
			c.Content = append(c.Content, &kc, d.copyTree(n.Content[i+1], join(path, k.Value), open, cyclic))
			if d.aliasBudget < 0 || *cyclic {
				return nil
			}
		}
		for _, m := range merges {
			sources := []*yaml.Node{m}
			if r := resolve(m); r.Kind == yaml.SequenceNode {
				sources = r.Content
			}
			for _, src := range sources {
				merged := d.copyTree(src, path, open, cyclic)
				if d.aliasBudget < 0 || *cyclic {
					return nil
				}
				if merged == nil || merged.Kind != yaml.MappingNode {
					d.errorf(m.Line, path, "a merge key (<<) must name a mapping, such as <<: *defaults")
					continue
				}
				for i := 0; i+1 < len(merged.Content); i += 2 {
					if _, ok := seen[merged.Content[i].Value]; !ok {
						seen[merged.Content[i].Value] = merged.Content[i]
						c.Content = append(c.Content, merged.Content[i], merged.Content[i+1])
					}
				}
			}
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			c.Content = append(c.Content, d.copyTree(e, fmt.Sprintf("%s[%d]", path, i), open, cyclic))
			if d.aliasBudget < 0 || *cyclic {
				return nil
			}
		}
	}
	return &c
}
