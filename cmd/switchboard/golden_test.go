package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files with the current output")

// TestGolden compares what `test` and `check` print, exit status included, with testdata/*.golden.
// Run `go test ./cmd/switchboard -run TestGolden -update` after a deliberate change, and review the diff.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"test-pass", []string{"test", "--config", "testdata/cfgtests/pass.yaml"}},
		{"test-fail", []string{"test", "--config", "testdata/cfgtests/fail.yaml"}},
		{"test-fail-json", []string{"test", "--json", "--config", "testdata/cfgtests/fail.yaml"}},
		{"test-broken", []string{"test", "--config", "testdata/cfgtests/broken.yaml"}},
		{"check-pass", []string{"check", "--config", "testdata/cfgtests/pass.yaml"}},
		{"check-fail", []string{"check", "--config", "testdata/cfgtests/fail.yaml"}},
		{"check-broken", []string{"check", "--config", "testdata/cfgtests/broken.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			got := fmt.Sprintf("$ switchboard %v\nexit %d\n--- stdout\n%s--- stderr\n%s", tt.args, code, stdout, stderr)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update after a deliberate change)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
