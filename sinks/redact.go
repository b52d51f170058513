package sinks

import (
	"net/url"
	"sort"
	"strings"
)

// Redacted is what a secret is replaced with.
const Redacted = "<secret>"

// minSecretLen is the shortest string the Redactor hides: shorter strings ("/", "a") would mangle
// every message while protecting nothing.
const minSecretLen = 4

// Redactor removes secrets (URLs, tokens, passwords, header values) from text bound for errors and
// logs. The zero value and a nil *Redactor leave text unchanged.
type Redactor struct {
	r *strings.Replacer
}

// NewRedactor returns a Redactor that shows each of urls as RedactURL does (scheme://host/<secret>)
// and replaces each of secrets, and each url's path, query and password, with "<secret>". Empty and
// very short strings are ignored.
func NewRedactor(urls []string, secrets ...string) *Redactor {
	var pairs []string
	var plain []string
	for _, raw := range urls {
		if raw == "" {
			continue
		}
		shown := RedactURL(raw)
		variants := []string{raw}
		if u, err := url.Parse(raw); err == nil {
			variants = append(variants, u.String(), u.Redacted())
			plain = append(plain, u.EscapedPath(), u.Path, u.RawQuery)
			if p, ok := u.User.Password(); ok {
				plain = append(plain, p)
			}
		}
		for _, v := range variants {
			if len(v) >= minSecretLen {
				pairs = append(pairs, v, shown)
			}
		}
	}
	plain = append(plain, secrets...)
	// Longer first, so a secret containing another is replaced whole.
	sort.SliceStable(plain, func(i, j int) bool { return len(plain[i]) > len(plain[j]) })
	for _, s := range plain {
		if len(s) >= minSecretLen && s != "/" {
			pairs = append(pairs, s, Redacted)
		}
	}
	if len(pairs) == 0 {
		return &Redactor{}
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// Redact returns s with every secret replaced.
func (r *Redactor) Redact(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// Wrap returns err with its text redacted; errors.Is and errors.As still see err's chain (a timeout
// stays a timeout). It returns nil for nil.
func (r *Redactor) Wrap(err error) error {
	if err == nil {
		return nil
	}
	return r.WrapMessage(err.Error(), err)
}

// WrapMessage returns an error whose text is msg redacted and whose chain is err's, for a message
// written from err's parts (say, without the URL that *url.Error prints).
func (r *Redactor) WrapMessage(msg string, err error) error {
	return &redactedError{msg: r.Redact(msg), err: err}
}

// redactedError shows a redacted message but keeps the original chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// RedactURL shows a URL without its secret parts: scheme://host/<secret>, or scheme://host when it has
// no path or query. A URL that does not parse is shown as "<secret>".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Redacted
	}
	shown := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		shown += "/" + Redacted
	}
	return shown
}
