package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/switchboard-relay/switchboard/config"
)

// knownStatuses are the call statuses Intellixent documents. A rule comparing status with a value
// that differs from one of them only in case never matches (an error); one comparing it with any
// other value gets a warning, since Intellixent may send statuses it does not document.
var knownStatuses = []string{"completed", "busy", "failed"}

// finding is one problem or warning found in an expression by the schema checks.
type finding struct {
	// offset is where in the expression the problem is, in runes.
	offset  int
	msg     string
	warning bool
}

// schemaChecker walks an expression's syntax tree for mistakes that compile but can never be
// what the author meant: an undeclared key of a declared map, a comparison with a value outside a
// declared enum or of the wrong type, and a status spelled with the wrong case.
type schemaChecker struct {
	schema   *config.Schema
	findings []finding
}

// checkExpr runs the schema checks on one expression that already compiled.
func checkExpr(schema *config.Schema, src string) []finding {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	sc := &schemaChecker{schema: schema}
	ast.Walk(&tree.Node, sc)
	return sc.findings
}

// Visit implements ast.Visitor.
func (sc *schemaChecker) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		sc.member(n)
	case *ast.BinaryNode:
		sc.binary(n)
	}
}

func (sc *schemaChecker) add(n ast.Node, warning bool, format string, args ...any) {
	sc.findings = append(sc.findings, finding{offset: n.Location().From, msg: fmt.Sprintf(format, args...), warning: warning})
}

// declaredMap returns the declaration of the call map that n names, or nil.
func (sc *schemaChecker) declaredMap(n ast.Node) *config.VarSchema {
	id, ok := n.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	return sc.schema.Map(id.Value)
}

// member reports a key of a declared map that the schema does not declare.
func (sc *schemaChecker) member(n *ast.MemberNode) {
	v := sc.declaredMap(n.Node)
	key, ok := n.Property.(*ast.StringNode)
	if v == nil || !ok {
		return
	}
	sc.checkKey(n.Property, v, key.Value)
}

func (sc *schemaChecker) checkKey(at ast.Node, v *config.VarSchema, key string) {
	if v.Field(key) != nil {
		return
	}
	names := v.Names()
	hint := ""
	if s := suggest(key, names); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	} else if len(names) > 0 {
		hint = " (declared: " + strings.Join(quoted(names), ", ") + ")"
	}
	sc.add(at, false, "%s.%s is not declared in schema.%s%s", v.Name, key, v.Name, hint)
}

// operand is what one side of a comparison refers to: a declared field, or the call's status.
type operand struct {
	field  *config.Field
	name   string // as written in messages: extracted_variables.score or status
	status bool
}

// refOf returns what n refers to, looking through `x ?? default` and `x?.y`.
func (sc *schemaChecker) refOf(n ast.Node) (operand, bool) {
	switch n := n.(type) {
	case *ast.ChainNode:
		return sc.refOf(n.Node)
	case *ast.BinaryNode:
		if n.Operator == "??" {
			return sc.refOf(n.Left)
		}
	case *ast.IdentifierNode:
		if n.Value == "status" {
			return operand{name: "status", status: true}, true
		}
	case *ast.MemberNode:
		v := sc.declaredMap(n.Node)
		key, ok := n.Property.(*ast.StringNode)
		if v == nil || !ok {
			return operand{}, false
		}
		if f := v.Field(key.Value); f != nil {
			return operand{field: f, name: v.Name + "." + f.Name}, true
		}
	}
	return operand{}, false
}

func (sc *schemaChecker) binary(n *ast.BinaryNode) {
	switch n.Operator {
	case "==", "!=", "<", ">", "<=", ">=":
		if ref, ok := sc.refOf(n.Left); ok {
			sc.compare(ref, n.Operator, n.Right)
		} else if ref, ok := sc.refOf(n.Right); ok {
			sc.compare(ref, n.Operator, n.Left)
		}
	case "in":
		if v := sc.declaredMap(n.Right); v != nil {
			if key, ok := n.Left.(*ast.StringNode); ok {
				sc.checkKey(n.Left, v, key.Value)
			}
			return
		}
		ref, ok := sc.refOf(n.Left)
		list, isList := n.Right.(*ast.ArrayNode)
		if ok && isList {
			for _, item := range list.Nodes {
				sc.compare(ref, "in", item)
			}
		}
	}
}

// compare checks a comparison of ref with lit, when lit is a literal.
func (sc *schemaChecker) compare(ref operand, op string, lit ast.Node) {
	switch lit.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
	default:
		return
	}
	if ref.status {
		sc.status(lit)
		return
	}
	f := ref.field
	ordering := op != "==" && op != "!=" && op != "in"
	switch f.Type {
	case config.TypeString:
		if _, ok := lit.(*ast.StringNode); !ok {
			sc.add(lit, false, "%s is a string (schema.%s), but is compared with %s: put it in quotes, %s", ref.name, ref.name, literalWord(lit), strconv.Quote(lit.String()))
		}
	case config.TypeNumber:
		switch l := lit.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
		case *ast.StringNode:
			fix := "compare it with a number"
			if _, err := strconv.ParseFloat(l.Value, 64); err == nil {
				fix = "write " + l.Value + " without quotes"
			}
			sc.add(lit, false, "%s is a number (schema.%s), but is compared with the string %q: %s", ref.name, ref.name, l.Value, fix)
		default:
			sc.add(lit, false, "%s is a number (schema.%s), but is compared with %s", ref.name, ref.name, literalWord(lit))
		}
	case config.TypeBoolean:
		switch l := lit.(type) {
		case *ast.BoolNode:
		case *ast.StringNode:
			fix := "compare it with true or false"
			if b := strings.ToLower(l.Value); b == "true" || b == "false" {
				fix = "write " + b + " without quotes"
			}
			sc.add(lit, false, "%s is true or false (schema.%s), but is compared with the string %q: %s", ref.name, ref.name, l.Value, fix)
		default:
			sc.add(lit, false, "%s is true or false (schema.%s), but is compared with %s", ref.name, ref.name, literalWord(lit))
		}
	case config.TypeEnum:
		if ordering {
			return
		}
		s, ok := lit.(*ast.StringNode)
		if !ok {
			if !contains(f.Enum, lit.String()) {
				sc.add(lit, false, "%s is never %s: schema.%s allows only %s", ref.name, literalWord(lit), ref.name, orList(f.Enum))
			}
			return
		}
		if contains(f.Enum, s.Value) {
			return
		}
		hint := ""
		if near := nearestValue(s.Value, f.Enum); near != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", near)
		}
		sc.add(lit, false, "%s is never %q: schema.%s allows only %s%s", ref.name, s.Value, ref.name, orList(f.Enum), hint)
	}
}

// status checks a comparison of status with a literal.
func (sc *schemaChecker) status(lit ast.Node) {
	s, ok := lit.(*ast.StringNode)
	if !ok {
		sc.add(lit, false, "status is a string such as \"completed\", but is compared with %s", literalWord(lit))
		return
	}
	if contains(knownStatuses, s.Value) {
		return
	}
	for _, k := range knownStatuses {
		if strings.EqualFold(k, s.Value) {
			sc.add(lit, false, "status is never %q: statuses are lower case, write %q", s.Value, k)
			return
		}
	}
	hint := ""
	if near := nearestValue(s.Value, knownStatuses); near != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", near)
	}
	sc.add(lit, true, "status %q is not one of the statuses Intellixent documents (%s)%s",
		s.Value, orList(knownStatuses), hint)
}

// nearestValue returns the allowed value closest to got: one equal but for case, or a likely typo.
func nearestValue(got string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, got) {
			return a
		}
	}
	return suggest(got, allowed)
}

// literalWord describes a literal for a message: `the number 5`, `the string "x"`, `true`.
func literalWord(n ast.Node) string {
	switch l := n.(type) {
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", l.Value)
	case *ast.IntegerNode, *ast.FloatNode:
		return "the number " + l.String()
	case *ast.BoolNode:
		return l.String()
	}
	return "a value"
}

// orList formats list as `"a", "b" or "c"`.
func orList(list []string) string {
	q := quoted(list)
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func quoted(list []string) []string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return q
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bareWordHint returns a hint for an unknown name used where a string is expected (status ==
// failed, status in [busy, failed]): the author meant the text, which must be quoted. It returns ""
// when name is not an operand of a comparison in src.
func bareWordHint(src, name string) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return ""
	}
	v := &bareWord{name: name}
	ast.Walk(&tree.Node, v)
	if !v.found {
		return ""
	}
	return fmt.Sprintf(" (to compare with the text %s, put it in quotes: %q)", name, name)
}

// bareWord finds an identifier compared with ==, != or in.
type bareWord struct {
	name  string
	found bool
}

// Visit implements ast.Visitor.
func (b *bareWord) Visit(node *ast.Node) {
	n, ok := (*node).(*ast.BinaryNode)
	if !ok {
		return
	}
	switch n.Operator {
	case "==", "!=":
		b.found = b.found || b.is(n.Left) || b.is(n.Right)
	case "in":
		if list, ok := n.Right.(*ast.ArrayNode); ok {
			for _, item := range list.Nodes {
				b.found = b.found || b.is(item)
			}
		}
	}
}

func (b *bareWord) is(n ast.Node) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == b.name
}

// checkSchema records the findings of checkExpr for the expression src, written on line at path.
// In a template, part is the {{ }} part the expression comes from, named in the message; a finding
// on a later line of a multi-line `when` says which line of the expression it is on.
func (c *compiler) checkSchema(src string, line int, path, part string) {
	for _, f := range checkExpr(c.schema, src) {
		msg := f.msg
		if part != "" {
			msg = (&templateError{src: part, msg: msg}).Error()
		} else if n := 1 + strings.Count(string([]rune(src)[:min(f.offset, len([]rune(src)))]), "\n"); n > 1 {
			msg += fmt.Sprintf(" (line %d of the expression)", n)
		}
		e := &config.Error{File: c.file, Line: line, Path: path, Msg: msg, Warning: f.warning}
		if f.warning {
			c.warns = append(c.warns, e)
		} else {
			c.errs = append(c.errs, e)
		}
	}
}

// addWarnings appends the compiler's warnings to cfg.Warnings, once each (Compile may run more than
// once on one config), keeping them sorted by line.
func (c *compiler) addWarnings(cfg *config.Config) {
	for _, w := range c.warns {
		dup := false
		for _, have := range cfg.Warnings {
			dup = dup || *have == *w
		}
		if !dup {
			cfg.Warnings = append(cfg.Warnings, w)
		}
	}
	slices.SortStableFunc(cfg.Warnings, func(a, b *config.Error) int { return cmp.Compare(a.Line, b.Line) })
}
