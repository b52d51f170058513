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
	// Warning marks something that loads but is probably not what the user meant (see
	// Config.Warnings): it never stops a config from loading, and prints with "warning: " before Msg.
	Warning bool
}

// Error formats e as "file:line: key.path: what is wrong", leaving out the line when it is unknown
// and the path when the problem concerns the file as a whole; a warning reads
// "file:line: key.path: warning: what is wrong".
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
	if e.Warning {
		b.WriteString("warning: ")
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

// Problems returns how many of es are problems rather than warnings.
func (es Errors) Problems() int {
	n := 0
	for _, e := range es {
		if !e.Warning {
			n++
		}
	}
	return n
}

// Err returns es as an error, or nil when es is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
