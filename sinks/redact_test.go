package sinks

import "testing"

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{name: "slack webhook", url: "https://hooks.slack.com/services/T0/B0/XYZ", want: "https://hooks.slack.com/<secret>"},
		{name: "query only", url: "https://crm.example.com?key=abc", want: "https://crm.example.com/<secret>"},
		{name: "userinfo", url: "https://user:pw@crm.example.com", want: "https://crm.example.com/<secret>"},
		{name: "bare host", url: "https://crm.example.com", want: "https://crm.example.com"},
		{name: "root path", url: "https://crm.example.com/", want: "https://crm.example.com"},
		{name: "not a URL", url: "::not a url", want: "<secret>"},
		{name: "no host", url: "hooks.slack.com/services/T0", want: "<secret>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactURL(tc.url); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.url, got, tc.want)
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor([]string{"https://user:pw1234@hooks.example.com/services/T0/B0/XYZ?sig=abcdef"}, "tok-123456", "ab", "")
	tests := []struct {
		name, in, want string
	}{
		{name: "whole URL", in: `Post "https://user:pw1234@hooks.example.com/services/T0/B0/XYZ?sig=abcdef": EOF`,
			want: `Post "https://hooks.example.com/<secret>": EOF`},
		{name: "URL as go-retryablehttp logs it", in: "POST https://user:xxxxx@hooks.example.com/services/T0/B0/XYZ?sig=abcdef",
			want: "POST https://hooks.example.com/<secret>"},
		{name: "path alone", in: "not found: /services/T0/B0/XYZ", want: "not found: <secret>"},
		{name: "query alone", in: "bad sig=abcdef", want: "bad <secret>"},
		{name: "password alone", in: "pw pw1234", want: "pw <secret>"},
		{name: "token", in: "Bearer tok-123456 refused", want: "Bearer <secret> refused"},
		{name: "short secrets are ignored", in: "ab cd", want: "ab cd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	var nilRedactor *Redactor
	if got := nilRedactor.Redact("x"); got != "x" {
		t.Errorf("nil Redactor.Redact(%q) = %q, want it unchanged", "x", got)
	}
}
