package twilio

import (
	"errors"
	"strings"
)

// maxDigits is the most digits an E.164 number has, country code included.
const maxDigits = 15

// separators are the characters people write inside phone numbers; normalizeNumber removes them.
const separators = " -.()"

// normalizeNumber returns s as an E.164 number ("+" and 1 to 15 digits, the first not 0), with
// surrounding white space and the separators " -.()" removed, so that "+1 (555) 010-0123" gives
// "+15550100123". The error says what is wrong without quoting s: it is a person's phone number.
func normalizeNumber(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("it is empty")
	}
	rest, ok := strings.CutPrefix(s, "+")
	if !ok {
		return "", errors.New("it does not start with + and a country code")
	}
	b := make([]byte, 0, len(s))
	b = append(b, '+')
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			b = append(b, byte(r))
		case strings.ContainsRune(separators, r):
		default:
			return "", errors.New("it holds characters other than digits, spaces, dashes, dots and parentheses")
		}
	}
	digits := len(b) - 1
	switch {
	case digits == 0:
		return "", errors.New("it has no digits after the +")
	case b[1] == '0':
		return "", errors.New("its country code starts with 0")
	case digits > maxDigits:
		return "", errors.New("it has more than 15 digits")
	}
	return string(b), nil
}
