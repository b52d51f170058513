package config

import (
	"fmt"
	"testing"
)

// TestSyntaxErrorLines checks that a YAML syntax error points at the line to fix, not at the start
// of the mapping around it as yaml.v3 reports it.
func TestSyntaxErrorLines(t *testing.T) {
	long := "sinks:\n"
	for i := 0; i < 300; i++ {
		long += fmt.Sprintf("  s%d:\n    type: log\n", i)
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "bad indent", src: "server:\n  listen: \":8080\"\n   webhook_path: /x\n", want: "f.yaml:3: invalid YAML: did not find expected key"},
		{name: "tab", src: "sinks:\n  ops:\n\ttype: log\n", want: "f.yaml:3: invalid YAML: found character that cannot start any token"},
		{name: "unclosed quote", src: "server:\n  listen: \":8080\nsinks: {}\n", want: "f.yaml:2: invalid YAML: found unexpected end of stream"},
		{name: "unclosed flow", src: "sinks:\n  ops:\n    type: log\n    url: [a, b\nrules: []\n", want: "f.yaml:4: invalid YAML: did not find expected ',' or ']'"},
		{name: "missing colon", src: "sinks:\n  ops:\n    type: log\n  bad\n  x: 1\n", want: "f.yaml:4: invalid YAML: could not find expected ':'"},
		{name: "deep in a long file", src: long + "  broken\n  y: 1\n", want: "f.yaml:602: invalid YAML: could not find expected ':'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f.yaml", []byte(tt.src), nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
			if cfg != nil {
				t.Errorf("config = %+v, want nil for a syntax error", cfg)
			}
		})
	}
}
