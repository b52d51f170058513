package config

import "fmt"

// Format implements fmt.Formatter so that every verb, not only %v and %s, shows "<secret>": without
// it, fmt.Sprintf("%d", cfg.Server) would print the value inside its "%!d(…)" complaint.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, fmt.FormatString(f, 'q'), s.String())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, 's'), s.String())
}

// Format implements fmt.Formatter. A struct holding secrets behind a pointer needs it: when fmt meets
// a pointer under a verb it does not support (%s of a Config reaches each *Sink so), it prints the
// pointed-to value with every String and Format method switched off, which would show the secrets.
// Each of these formats as %v (or %+v) whatever the verb.
func (s *Sink) Format(f fmt.State, verb rune) {
	type plain Sink
	formatPlain(f, (*plain)(s))
}

// Format implements fmt.Formatter; see (*Sink).Format.
func (s *SlackSink) Format(f fmt.State, verb rune) {
	type plain SlackSink
	formatPlain(f, (*plain)(s))
}

// Format implements fmt.Formatter; see (*Sink).Format.
func (s *WebhookSink) Format(f fmt.State, verb rune) {
	type plain WebhookSink
	formatPlain(f, (*plain)(s))
}

// Format implements fmt.Formatter; see (*Sink).Format.
func (s *EmailSink) Format(f fmt.State, verb rune) {
	type plain EmailSink
	formatPlain(f, (*plain)(s))
}

func formatPlain(f fmt.State, v any) {
	if f.Flag('+') {
		fmt.Fprintf(f, "%+v", v)
		return
	}
	fmt.Fprintf(f, "%v", v)
}
