package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or hang, and that every problem is located in the
// file and speaks the user's language rather than Go's.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/config.*.yaml")
	files = append(files, filepath.Join("..", "config.example.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(secretConfig))
	f.Add([]byte("a: &a {<<: *a}\n"))
	f.Add([]byte("rules: [{name: x, actions: [{sink: s, body: &b [*b]}]}]\n"))
	env := mapEnv(map[string]string{"SET": "value: with # yaml", "EMPTY": ""})
	// An input may include any file (/dev/zero): the fuzzer parses include: but reads nothing.
	globIncludes = func(string) ([]string, error) { return nil, nil }
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, env)
		if err == nil {
			if cfg == nil {
				t.Fatal("Parse returned neither a config nor an error")
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("Parse error = %v, want a non-empty Errors", err)
		}
		for i, e := range errs {
			if e.File != "f.yaml" {
				t.Errorf("error %q names file %q, want f.yaml", e, e.File)
			}
			if i > 0 && e.Line < errs[i-1].Line {
				t.Errorf("errors not sorted by line: %d after %d", e.Line, errs[i-1].Line)
			}
			for _, leak := range []string{"yaml.Node", "config.", "*yaml", "reflect", "!!"} {
				// A message may quote what the user wrote; only text the input lacks is a leak.
				if strings.Contains(e.Msg, leak) && !bytes.Contains(data, []byte(leak)) {
					t.Errorf("error %q shows Go or YAML internals (%q)", e, leak)
				}
			}
		}
	})
}
