package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateMistakes = flag.Bool("update-mistakes", false, "rewrite testdata/yaml-mistakes/*.want from the current messages")

// TestYAMLMistakes is the golden-file test of the YAML mistakes people make: each
// testdata/yaml-mistakes/NAME.yaml is a config with one mistake, and NAME.want the exact problems
// check prints for it (the file name written as FILE). Every message must name the line to fix and
// say what to do. Run with -update-mistakes to rewrite the .want files, then read the diff.
func TestYAMLMistakes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "yaml-mistakes", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found %d mistakes, want at least 20", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, perr := Parse("FILE", data, nil)
			if perr == nil {
				t.Fatalf("Parse accepted a file with a mistake")
			}
			got := perr.Error() + "\n"
			wantFile := strings.TrimSuffix(file, ".yaml") + ".want"
			if *updateMistakes {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run with -update-mistakes to create it)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%swant:\n%s", got, want)
			}
		})
	}
}

// TestYAMLErrorLineInLongFile checks that the line search stays right deep in a long file.
func TestYAMLErrorLineInLongFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("sinks:\n")
	for i := 0; i < 300; i++ {
		b.WriteString("  s" + strings.Repeat("x", i%7) + itoa(i) + ":\n    type: log\n")
	}
	b.WriteString("  broken\n  y: 1\n")
	_, err := Parse("f.yaml", []byte(b.String()), nil)
	want := `f.yaml:602: invalid YAML: "broken" has no ":" after it: write broken:`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
