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

// TestCommentValueWarning checks the warning for a value that YAML reads as a comment, and that an
// ordinary comment after a key does not warn.
func TestCommentValueWarning(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{name: "slack channel", src: "sinks:\n  ops:\n    type: log\n    channel: #alerts\n",
			want: []string{`f.yaml:4: sinks.ops.channel: warning: the value is empty, because YAML reads #alerts as a comment: put the value in quotes, channel: "#alerts"`}},
		{name: "in a list", src: "sinks:\n  ops: {type: log}\nrules:\n  - name: a\n    actions:\n      - sink: ops\n        text: #42 called\n",
			want: []string{`f.yaml:7: rules[0].actions[0].text: warning: the value is empty, because YAML reads #42 as a comment: put the value in quotes, text: "#42"`}},
		{name: "ordinary comments", src: "sinks:\n  ops:\n    type: log # the log\n    channel: # none yet\n    token:\n    #x\n"},
		{name: "quoted", src: "sinks:\n  ops:\n    type: log\n    channel: \"#alerts\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f.yaml", []byte(tt.src), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, w := range cfg.Warnings {
				got = append(got, w.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
