package config

import "fmt"

// Format implements fmt.Formatter. A struct holding secrets behind a pointer needs it: when fmt meets
// a pointer under a verb it does not support (%s of a Config reaches each *Sink so), it prints the
// pointed-to value with every String and Format method switched off, which would show the secrets.
// A Sink formats as %v (or %+v) whatever the verb, and so does a Sink value: its Settings, a pointer
// to a sink type's struct, then prints as an address, never as the values behind it.
func (s Sink) Format(f fmt.State, verb rune) {
	type plain Sink
	formatPlain(f, plain(s))
}

func formatPlain(f fmt.State, v any) {
	if f.Flag('+') {
		fmt.Fprintf(f, "%+v", v)
		return
	}
	fmt.Fprintf(f, "%v", v)
}
