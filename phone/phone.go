// Package phone masks phone numbers for logs and the web console.
package phone

import (
	"regexp"
	"strings"
)

// Mask keeps a phone number's leading + and last four digits and replaces the other digits with '*'.
func Mask(p string) string {
	digits := 0
	for _, r := range p {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	b := []rune(p)
	for i := range b {
		if b[i] >= '0' && b[i] <= '9' {
			if digits > 4 {
				b[i] = '*'
			}
			digits--
		}
	}
	return string(b)
}

// pattern matches phone numbers in international form: a + and at least eight digits, with single
// separators allowed ("+1234567890", "+1 (234) 567-8901"). Dates, timestamps and ids have no + and
// are left alone.
var pattern = regexp.MustCompile(`\+\d(?:[ .()-]?\d){7,}`)

// MaskAll masks every phone number in s.
func MaskAll(s string) string {
	if !strings.Contains(s, "+") {
		return s
	}
	return pattern.ReplaceAllStringFunc(s, Mask)
}
