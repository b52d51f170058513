package webhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
)

// settings are validated Settings with defaults applied.
type settings struct {
	url     string
	method  string
	headers http.Header // configured headers; every value is a secret
	secrets []string    // configured header values, for redaction
	signKey []byte      // nil when requests are not signed
	timeout time.Duration
}

// check validates conf and applies defaults. Errors name the config keys, never their values.
func check(conf *Settings) (settings, error) {
	if conf == nil {
		return settings{}, configError("webhook sink has no settings: set url")
	}
	s := settings{url: string(conf.URL), method: strings.ToUpper(conf.Method), timeout: conf.Timeout, headers: http.Header{}}
	if s.method == "" {
		s.method = http.MethodPost
	}
	if u, err := url.Parse(s.url); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return settings{}, configError("url is not an http(s) URL: fix it in the config")
	}
	if !validName(s.method) {
		return settings{}, configError("method is not an HTTP method: use POST, PUT or PATCH")
	}
	for name, v := range conf.Headers {
		if !validName(name) {
			return settings{}, configError("headers: " + quote(name) + " is not a valid header name")
		}
		s.headers.Set(name, stripCRLF(string(v)))
		s.secrets = append(s.secrets, string(v))
	}
	if sec := string(conf.SigningSecret); sec != "" {
		s.secrets = append(s.secrets, sec)
		key, msg := signingKey(sec)
		if msg != "" {
			return settings{}, configError("signing_secret " + msg)
		}
		s.signKey = key
	}
	return s, nil
}

// signingKey is the HMAC key of a signing secret: the base64 after "whsec_" (the Standard Webhooks
// form), or else the secret's bytes. msg says what is wrong, never showing the secret.
func signingKey(secret string) (key []byte, msg string) {
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return []byte(secret), ""
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, "starts with whsec_ but the rest is not base64: copy the whole secret again"
	}
	return key, ""
}

// validName reports whether s is an HTTP token (a header name or method).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// stripCRLF removes the characters that would end a header line.
func stripCRLF(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return -1
		}
		return r
	}, s)
}

func quote(s string) string { return `"` + stripCRLF(s) + `"` }

func configError(msg string) error {
	return sinks.Permanent(sinks.ReasonConfig, errors.New(msg))
}
