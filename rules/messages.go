package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/file"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
)

// callNames and turnNames are the names a rule can use, from call.Call's and call.Turn's expr tags.
var (
	callNames = exprNames(reflect.TypeFor[call.Call]())
	turnNames = exprNames(reflect.TypeFor[call.Turn]())
)

func exprNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("expr"); tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return names
}

// goTypes maps the Go type names expr puts in its messages to the words a config author knows.
// Longer names come first so that a short one never rewrites part of a longer one.
var goTypes = []struct {
	re   *regexp.Regexp
	word string
}{
	{regexp.MustCompile(`map\[string\]interface \{\}`), "object"},
	{regexp.MustCompile(`\[\]interface \{\}`), "list"},
	{regexp.MustCompile(`\[\]call\.Turn`), "list of turns"},
	{regexp.MustCompile(`\bcall\.Turn\b`), "turn"},
	{regexp.MustCompile(`\bcall\.Call\b`), "call"},
	{regexp.MustCompile(`interface \{\}`), "any"},
	{regexp.MustCompile(`\*string\b`), "string"},
	{regexp.MustCompile(`\[\]string\b`), "list of strings"},
	{regexp.MustCompile(`\b(u?int(8|16|32|64)?|float(32|64))\b`), "number"},
	{regexp.MustCompile(`\bbool\b`), "boolean"},
	{regexp.MustCompile(`<nil>`), "null"},
}

// plainWords rewrites Go type names in an expr message into plain words.
func plainWords(msg string) string {
	for _, g := range goTypes {
		msg = g.re.ReplaceAllString(msg, g.word)
	}
	return strings.TrimSpace(msg)
}

// typeWord names a compile-time type for a message.
func typeWord(t reflect.Type) string {
	if t == nil {
		return "null"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Pointer:
		return typeWord(t.Elem())
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	}
	return "value"
}

// valueWord names a runtime value's type for a message.
func valueWord(v any) string {
	if v == nil {
		return "null"
	}
	return typeWord(reflect.TypeOf(v))
}

var (
	unknownName  = regexp.MustCompile(`^unknown name (\S+)$`)
	unknownField = regexp.MustCompile(`^type turn has no field (\S+)$`)
	// unexpectedToken is expr's parser message, e.g. unexpected token Operator("=").
	unexpectedToken = regexp.MustCompile(`^unexpected token \w+\("(.*)"\)$`)
)

// compileMessage turns an expr compile error of the expression src into a config message, with a
// suggestion for a misspelled name, or the hint to quote a bare word compared as if it were text.
func compileMessage(src string, err error) string {
	msg := suggestName(err)
	if m := unknownName.FindStringSubmatch(msg); m != nil {
		if hint := bareWordHint(src, m[1]); hint != "" {
			msg = m[0] + hint
		}
	}
	var fe *file.Error
	if errors.As(err, &fe) && fe.Line > 1 {
		msg += fmt.Sprintf(" (line %d of the expression)", fe.Line)
	}
	return msg
}

// suggestName words an expr compile error plainly and adds a suggestion for a misspelled name.
func suggestName(err error) string {
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	msg = plainWords(msg)
	if m := unknownName.FindStringSubmatch(msg); m != nil {
		if s := suggest(m[1], callNames); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	} else if msg == "unexpected token EOF" {
		msg = "the expression ends too early: something is missing at its end"
	} else if m := unexpectedToken.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("unexpected %q", m[1])
		switch m[1] {
		case "=":
			msg += ": compare with == (a single = is not an operator)"
		case "&", "|":
			msg += fmt.Sprintf(": write %s%s, or and/or", m[1], m[1])
		}
	} else if m := unknownField.FindStringSubmatch(msg); m != nil {
		msg = "a transcript turn has no field " + m[1]
		if s := suggest(m[1], turnNames); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	return msg
}

// runtimeMessage turns an expr runtime error into a short message without the expression snippet,
// with a hint when a missing (null) value caused it.
func runtimeMessage(err error) string {
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	msg = plainWords(msg)
	if strings.Contains(msg, "null") {
		msg += ` (a missing value is null: give it a default, e.g. (x ?? 0))`
	}
	return msg
}

// suggest returns the name closest to got when it is near enough to be a likely typo, else "".
func suggest(got string, names []string) string {
	return config.Nearest(got, names, len(got)/3+1)
}
