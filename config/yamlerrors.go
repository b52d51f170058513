package config

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlError turns a YAML syntax error in data into an Error on the line to fix, saying what is
// wrong and what to do in words for someone who does not know YAML's grammar.
//
// yaml.v3 reports where the parser gave up, which is often lines away from the mistake (an
// unterminated quote is reported where the next quote happens to be). problemLine first narrows the
// line to the shortest failing prefix of the file; explainYAML then recognises the mistakes people
// make (a tab, a quote never closed or closed too early, a bracket never closed, a ": " inside a
// plain value, a key without its colon, a line indented differently from its neighbours) and
// confirms the guess, where it can, by repairing that one line and parsing again.
func yamlError(file string, data []byte, err error) *Error {
	e := syntaxError(file, err)
	e.Line = problemLine(data, err, e.Line)
	if e.Line > 0 {
		e.Line, e.Msg = explainYAML(data, e.Line, strings.TrimPrefix(e.Msg, "invalid YAML: "))
	}
	return e
}

// explainYAML returns the line and the message for the YAML error msg reported on line.
func explainYAML(data []byte, line int, msg string) (int, string) {
	lines := strings.Split(string(data), "\n")
	if line > len(lines) {
		line = len(lines)
	}
	x := &yamlText{lines: lines}
	for _, explain := range []func(int, string) (int, string){
		x.tab, x.unclosedQuote, x.earlyQuote, x.unclosedBracket, x.colonInValue, x.missingColon,
		x.specialStart, x.dashNoSpace, x.blockIndent, x.indentation,
	} {
		if l, m := explain(line, msg); m != "" {
			return l, "invalid YAML: " + m
		}
	}
	return line, "invalid YAML: " + msg
}

// yamlText is the text of a file that failed to parse, split in lines (line n is lines[n-1]).
type yamlText struct {
	lines []string
}

func (x *yamlText) line(n int) string {
	if n < 1 || n > len(x.lines) {
		return ""
	}
	return strings.TrimSuffix(x.lines[n-1], "\r")
}

// repaired reports whether the file parses past line `upto` once line n is replaced by fixed: the
// error then goes away or is reported on a later line, so line n was the mistake.
func (x *yamlText) repaired(n int, fixed string, upto int) bool {
	lines := append([]string(nil), x.lines...)
	lines[n-1] = fixed
	data := []byte(strings.Join(lines, "\n"))
	_, err := parseYAML(data)
	if err == nil {
		return true
	}
	e := syntaxError("", err)
	return problemLine(data, err, e.Line) > upto
}

// value returns the value part of a line, after "key: " or "- ", and where it starts; ok is false
// for a line with no value (a comment, a key alone, a blank line).
func value(line string) (val string, at int, ok bool) {
	trimmed := strings.TrimLeft(line, " \t")
	at = len(line) - len(trimmed)
	for strings.HasPrefix(trimmed, "- ") {
		trimmed = strings.TrimLeft(trimmed[2:], " ")
		at = len(line) - len(trimmed)
	}
	if trimmed == "" || trimmed[0] == '#' {
		return "", 0, false
	}
	if trimmed[0] != '"' && trimmed[0] != '\'' {
		if i := strings.Index(trimmed, ": "); i >= 0 {
			rest := strings.TrimLeft(trimmed[i+2:], " ")
			at += len(trimmed) - len(rest)
			trimmed = rest
		} else if strings.HasSuffix(trimmed, ":") {
			return "", 0, false
		}
	}
	if trimmed == "" {
		return "", 0, false
	}
	return trimmed, at, true
}

// quoteEnd returns the index in v (which starts with a quote) just after its closing quote, or -1
// when the quote is not closed on this line. In "…" a backslash escapes the next character; in '…'
// a quote is written twice.
func quoteEnd(v string) int {
	q := v[0]
	for i := 1; i < len(v); i++ {
		switch {
		case q == '"' && v[i] == '\\':
			i++
		case v[i] == q && q == '\'' && i+1 < len(v) && v[i+1] == '\'':
			i++
		case v[i] == q:
			return i + 1
		}
	}
	return -1
}

// leadingTab reports whether a line is indented with a tab.
func leadingTab(line string) bool {
	for _, c := range line {
		switch c {
		case ' ':
			continue
		case '\t':
			return true
		}
		return false
	}
	return false
}

// tab finds a line indented with a tab at or before the error.
func (x *yamlText) tab(line int, msg string) (int, string) {
	const say = "this line is indented with a tab: YAML allows only spaces (replace the tab with spaces, lined up with the keys beside it)"
	if leadingTab(x.line(line)) {
		return line, say
	}
	if strings.Contains(msg, "tab") {
		for n := line - 1; n >= 1; n-- {
			if leadingTab(x.line(n)) {
				return n, say
			}
		}
	}
	return 0, ""
}

// unclosedQuote finds a quoted value opened at or before the error and never closed on its line.
func (x *yamlText) unclosedQuote(line int, msg string) (int, string) {
	for n := line; n >= 1 && n > line-200; n-- {
		v, _, ok := value(x.line(n))
		if !ok || (v[0] != '"' && v[0] != '\'') || quoteEnd(v) >= 0 {
			continue
		}
		if x.repaired(n, x.line(n)+v[:1], line) {
			return n, fmt.Sprintf("the %s opened on this line is never closed: end the value with %s", quoteName(v[0]), v[:1])
		}
	}
	return 0, ""
}

func quoteName(q byte) string {
	if q == '"' {
		return `quote "`
	}
	return "quote '"
}

// earlyQuote finds, on the error line, a value that starts with a quote and has more text after its
// closing quote: a quote inside the value, or a value that only begins with a quoted word.
func (x *yamlText) earlyQuote(line int, msg string) (int, string) {
	for n := line; n >= 1 && n >= line-1; n-- {
		v, _, ok := value(x.line(n))
		if !ok || (v[0] != '"' && v[0] != '\'') {
			continue
		}
		end := quoteEnd(v)
		if end < 0 {
			continue
		}
		rest := strings.TrimLeft(v[end:], " ")
		if rest == "" || rest[0] == '#' || rest[0] == ',' || rest[0] == ']' || rest[0] == '}' || rest[0] == ':' {
			continue
		}
		if v[0] == '"' {
			return n, fmt.Sprintf("the value starts with a quote, so YAML ends it at the next quote, after %s, and cannot read the rest: write \\\" for a quote inside \"…\", or put the whole value in single quotes ('…')", v[:end])
		}
		return n, fmt.Sprintf("the value starts with a quote, so YAML ends it at the next quote, after %s, and cannot read the rest: write '' for an apostrophe inside '…', or put the whole value in double quotes (\"…\")", v[:end])
	}
	return 0, ""
}

// unclosedBracket finds a [ or { opened at or before the error and not closed.
func (x *yamlText) unclosedBracket(line int, msg string) (int, string) {
	if !strings.Contains(msg, "did not find expected ',' or") && !strings.Contains(msg, "end of stream") {
		return 0, ""
	}
	for n := line; n >= 1 && n > line-200; n-- {
		v, _, ok := value(x.line(n))
		if !ok || (v[0] != '[' && v[0] != '{') {
			continue
		}
		closers := unclosed(v)
		if closers == "" {
			continue
		}
		if x.repaired(n, x.line(n)+closers, line) {
			what := "a [ opened on this line is not closed: end the list with ]"
			if v[0] == '{' {
				what = "a { opened on this line is not closed: end the mapping with }"
				if strings.HasPrefix(v, "{{") {
					what = "a value starting with { is read as a YAML mapping: put a template in quotes, \"{{ … }}\""
				}
			}
			return n, what
		}
	}
	return 0, ""
}

// unclosed returns the closing brackets that v, a flow list or mapping, lacks, skipping quoted text.
func unclosed(v string) string {
	var stack []byte
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\'':
			end := quoteEnd(v[i:])
			if end < 0 {
				return ""
			}
			i += end - 1
		case '[':
			stack = append(stack, ']')
		case '{':
			stack = append(stack, '}')
		case ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return ""
			}
			stack = stack[:len(stack)-1]
		case '#':
			if i > 0 && v[i-1] == ' ' {
				i = len(v)
			}
		}
	}
	var b []byte
	for i := len(stack) - 1; i >= 0; i-- {
		b = append(b, stack[i])
	}
	return string(b)
}

// colonInValue finds a plain (unquoted) value holding ": ", which YAML reads as a second key.
func (x *yamlText) colonInValue(line int, msg string) (int, string) {
	if !strings.Contains(msg, "mapping values are not allowed") {
		return 0, ""
	}
	l := x.line(line)
	v, _, ok := value(l)
	if !ok || v[0] == '"' || v[0] == '\'' || v[0] == '[' || v[0] == '{' || !strings.Contains(v, ": ") {
		return 0, ""
	}
	key := strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(l, v)), ":")
	key = strings.TrimSpace(strings.TrimPrefix(key, "- "))
	q := `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
	if key != "" {
		return line, fmt.Sprintf("the value holds \": \", which YAML reads as the start of another key: put the whole value in quotes, %s: %s", key, q)
	}
	return line, fmt.Sprintf("the value holds \": \", which YAML reads as the start of another key: put the whole value in quotes, %s", q)
}

// missingColon finds a key written without its ":" just above a line indented under it.
func (x *yamlText) missingColon(line int, msg string) (int, string) {
	if !strings.Contains(msg, "mapping values are not allowed") && !strings.Contains(msg, "could not find expected ':'") {
		return 0, ""
	}
	for n := line; n >= 1 && n >= line-1; n-- {
		t := strings.TrimSpace(x.line(n))
		word := strings.TrimPrefix(t, "- ")
		if word == "" || strings.ContainsAny(word, ":#\"'[]{}") || strings.Contains(word, " ") {
			continue
		}
		// The line must be a lone word with something indented under it (or be the error line).
		if n == line || indentOf(x.line(n+1)) > indentOf(x.line(n)) {
			return n, fmt.Sprintf("%q has no \":\" after it: write %s:", word, word)
		}
	}
	return 0, ""
}

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

// keyCol is the column of a line's first key: its indentation, plus that of any "- " before it.
func keyCol(line string) int {
	t := strings.TrimLeft(line, " ")
	for strings.HasPrefix(t, "- ") {
		t = strings.TrimLeft(t[2:], " ")
	}
	return len(line) - len(t)
}

// specialStart finds a plain value starting with a character YAML reserves.
func (x *yamlText) specialStart(line int, msg string) (int, string) {
	v, _, ok := value(x.line(line))
	if !ok {
		return 0, ""
	}
	if v[0] == '[' || v[0] == '{' {
		if end := flowEnd(v); end > 0 {
			if rest := strings.TrimSpace(v[end:]); rest != "" && rest[0] != '#' {
				what := "list"
				if v[0] == '{' {
					what = "mapping"
				}
				return line, fmt.Sprintf("a value starting with %c is read as a YAML %s, and the text after its %c cannot be read: put the whole value in quotes, \"%s\"", v[0], what, v[end-1], strings.ReplaceAll(v, `"`, `\"`))
			}
		}
	}
	switch v[0] {
	case '*':
		return line, "a value starting with * is read as a YAML alias (a reference to an &anchor): put the value in quotes, \"" + v + "\""
	case '&':
		return line, "a value starting with & is read as a YAML anchor: put the value in quotes, \"" + v + "\""
	case '@', '`', '%':
		return line, fmt.Sprintf("a value cannot start with %c in YAML: put the value in quotes, \"%s\"", v[0], v)
	case '!':
		return line, "a value starting with ! is read as a YAML tag: put the value in quotes, \"" + v + "\""
	}
	return 0, ""
}

// indentation words the errors yaml.v3 gives for a line indented differently from its neighbours.
func (x *yamlText) indentation(line int, msg string) (int, string) {
	prev := line - 1
	for prev >= 1 && (strings.TrimSpace(x.line(prev)) == "" || strings.HasPrefix(strings.TrimSpace(x.line(prev)), "#")) {
		prev--
	}
	switch {
	case strings.Contains(msg, "did not find expected '-' indicator"):
		return line, "this line is not lined up with the list items above it: start it at the same column as their \"-\", or indent it under one of them"
	case strings.Contains(msg, "mapping values are not allowed"), strings.Contains(msg, "did not find expected key"),
		strings.Contains(msg, "could not find expected ':'"):
		if prev >= 1 && indentOf(x.line(line)) > keyCol(x.line(prev)) && !strings.HasSuffix(strings.TrimSpace(x.line(prev)), ":") {
			return line, fmt.Sprintf("this line is indented more than line %d, which does not end with \":\": line it up with the key it belongs beside", prev)
		}
		return line, "this line's indentation does not match the lines around it: indent it with spaces to the same column as the keys it belongs beside"
	}
	return 0, ""
}

// blockIndent finds a line of a literal (|) or folded (>) block indented less than the block's
// first line, which ends the block early.
func (x *yamlText) blockIndent(line int, msg string) (int, string) {
	ind := indentOf(x.line(line))
	first := -1 // the indentation of the block's first line
	for n := line - 1; n >= 1; n-- {
		l := x.line(n)
		if strings.TrimSpace(l) == "" {
			continue
		}
		v, _, ok := value(l)
		if ok && len(v) <= 3 && (v[0] == '|' || v[0] == '>') && strings.Trim(v[1:], "+-0123456789") == "" {
			if first > 0 && ind < first && (ind > indentOf(l) || !strings.Contains(x.line(line), ":")) {
				return line, fmt.Sprintf("this line is indented less than the first line of the text block started on line %d (%s), which ends the block: indent every line of the block at least as much as its first", n, v)
			}
			return 0, ""
		}
		if first < 0 || indentOf(l) < first {
			first = indentOf(l)
		}
	}
	return 0, ""
}

// shapeHint explains a value at path that YAML read as another shape than the text the user meant:
// a template written without quotes ({{ id }} is a YAML mapping) or a key without the space after
// its colon (type:log is one word). It returns "" when neither applies.
func shapeHint(n *yaml.Node, path string) string {
	n = resolve(n)
	switch {
	case n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle != 0 && len(n.Content) > 0 && resolve(n.Content[0]).Kind == yaml.MappingNode:
		if strings.HasSuffix(path, ".when") {
			return ` (when is already an expression: write it without {{ }}, e.g. when: status == "completed")`
		}
		return ` (a value starting with "{" is read as a YAML mapping: put a template in quotes, "{{ … }}")`
	case n.Kind == yaml.ScalarNode && n.Style == 0 && keyNoSpace.MatchString(n.Value):
		k, v, _ := strings.Cut(n.Value, ":")
		return fmt.Sprintf(` (write a space after the ":", as in "%s: %s")`, k, v)
	}
	return ""
}

// keyNoSpace matches a plain word that looks like a key and value written without the space after
// the colon.
var keyNoSpace = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*:[^\s/]`)

// dashNoSpace finds a list item written "-name: x", without the space after the dash.
func (x *yamlText) dashNoSpace(line int, msg string) (int, string) {
	t := strings.TrimLeft(x.line(line), " ")
	if len(t) < 2 || t[0] != '-' || t[1] == ' ' || t[1] == '-' {
		return 0, ""
	}
	return line, fmt.Sprintf("a list item needs a space after its \"-\": write \"- %s\"", t[1:])
}

// warnCommentValues warns about each key whose intended value YAML read as a comment
// (channel: #sales): a "#" right after ": " starts a comment, so the value is empty.
func (d *decoder) warnCommentValues(n *yaml.Node, path string, depth int) {
	if n == nil || depth > 100 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			c := strings.TrimSpace(v.LineComment + k.LineComment)
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "" && v.Line == k.Line &&
				len(c) > 1 && c[0] == '#' && c[1] != ' ' && c[1] != '#' {
				word := strings.Fields(c)[0]
				d.warnf(k.Line, p, "the value is empty, because YAML reads %s as a comment: put the value in quotes, %s: \"%s\"", word, k.Value, word)
			}
			d.warnCommentValues(v, p, depth+1)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			d.warnCommentValues(item, fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	}
}

// flowEnd returns the index just after the bracket that closes the one v starts with, skipping
// quoted text, or -1 when it is not closed on this line.
func flowEnd(v string) int {
	depth := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"', '\'':
			end := quoteEnd(v[i:])
			if end < 0 {
				return -1
			}
			i += end - 1
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
