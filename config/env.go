package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxTreeNodes bounds the nodes of one blocks or body structure once aliases are expanded, so a
// "billion laughs" file cannot exhaust memory.
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
			case hasDef:
				b.WriteString(def)
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

// tree returns a copy of a template structure (blocks, body) with aliases replaced by what they
// point to and ${…} expanded in every string scalar. Mapping keys are kept as written.
func (d *decoder) tree(n *yaml.Node, path string) *yaml.Node {
	budget := maxTreeNodes
	out := d.copyTree(n, path, &budget, map[*yaml.Node]bool{})
	if budget == cyclic {
		d.errorf(n.Line, path, "contains itself through an alias; YAML aliases here may only repeat other values")
		return nil
	}
	if budget < 0 {
		d.errorf(n.Line, path, "is too large once its aliases are expanded (more than %d values)", maxTreeNodes)
		return nil
	}
	return out
}

// cyclic is the budget copyTree leaves when it meets a node inside itself.
const cyclic = -1 << 40

func (d *decoder) copyTree(n *yaml.Node, path string, budget *int, open map[*yaml.Node]bool) *yaml.Node {
	n = resolve(n)
	if open[n] {
		*budget = cyclic
		return nil
	}
	if *budget--; *budget < 0 {
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
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			kc := *k
			kc.Anchor = ""
			c.Content = append(c.Content, &kc, d.copyTree(n.Content[i+1], join(path, k.Value), budget, open))
			if *budget < 0 {
				return nil
			}
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			c.Content = append(c.Content, d.copyTree(e, fmt.Sprintf("%s[%d]", path, i), budget, open))
			if *budget < 0 {
				return nil
			}
		}
	}
	return &c
}
