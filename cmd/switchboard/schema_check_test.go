package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSchemaGolden runs check on the declared-schema mistakes of testdata/check-schema.yaml and
// compares its whole output with testdata/check-schema.golden (FILE stands for the config's path).
func TestCheckSchemaGolden(t *testing.T) {
	config := filepath.Join("testdata", "check-schema.yaml")
	want, err := os.ReadFile(filepath.Join("testdata", "check-schema.golden"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "check", "--config", config)
	got := strings.ReplaceAll(out+"--- stderr\n"+errOut, config, "FILE")
	if code != 1 || got != string(want) {
		t.Errorf("exit %d, want 1; output:\n%s\nwant:\n%s", code, got, want)
	}
}
