package store

import "testing"

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "unexpected status 503", want: "unexpected status 503"},
		{name: "unicode kept", in: "Zoë ☎", want: "Zoë ☎"},
		{name: "NUL", in: "a\x00b", want: "a\uFFFDb"},
		{name: "invalid UTF-8 run", in: "a\xff\xfeb", want: "a\uFFFDb"},
		{name: "both", in: "\x00\xff", want: "\uFFFD\uFFFD"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanText(tt.in); got != tt.want {
				t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
