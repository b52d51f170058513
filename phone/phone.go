// Package phone masks phone numbers for logs and the web console.
package phone

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
