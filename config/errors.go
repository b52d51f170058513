package config

import (
	"fmt"
	"strings"
)

// Error is one problem found in a config file, located by file, line and key path.
type Error struct {
	File string
	Line int    // 0 when unknown
	Path string // key path such as rules[2].actions[0].sink; empty for the file as a whole
	Msg  string
}

// Error formats e as "file:line: key.path: what is wrong", leaving out the line when it is unknown
// and the path when the problem concerns the file as a whole.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one config, in file order. It is returned as an error only when
// it is not empty.
type Errors []*Error

// Error formats every problem, one per line, in order.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns es as an error, or nil when es is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
