package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestConfigTestsCLI runs the real binary on config tests: the shipped example's tests pass under
// `test` and `check`, and a config whose test fails makes `test` and `check` exit 1 and `serve`
// refuse to start, naming the test and its line.
func TestConfigTestsCLI(t *testing.T) {
	for _, v := range []string{"SALES_SLACK_TYPE", "OPS_SLACK_TYPE", "CRM_TYPE", "SALES_EMAIL_TYPE"} {
		t.Setenv(v, "")
	}
	example := filepath.Join("..", "config.example.yaml")
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	const pass, fail = "matched: [failed-calls]", "matched: [hot-leads]"
	if !strings.Contains(string(data), pass) {
		t.Fatalf("config.example.yaml no longer contains %q: update this test", pass)
	}
	dir := t.TempDir()
	broken := filepath.Join(dir, "switchboard.yaml")
	cfg := strings.Replace(string(data), pass, fail, 1)
	cfg = strings.Replace(cfg, "path: ./data/switchboard.db", "path: "+filepath.Join(dir, "sb.db"), 1)
	cfg = strings.Replace(cfg, `listen: ":8080"`, `listen: "`+freeAddr(t)+`"`, 1)
	mustWrite(t, broken, cfg)
	line := 1 + strings.Count(string(data)[:strings.Index(string(data), pass)], "\n")
	problem := broken + ":" + strconv.Itoa(line) + ": tests[2].expect.matched: test \"a failed call goes to ops\" failed"

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout or stderr
	}{
		{"example tests pass", []string{"test", "--config", example}, 0, "3 passed, 0 failed"},
		{"example checks", []string{"check", "--config", example}, 0, "3 test(s) passed"},
		{"a failing test fails test", []string{"test", "--config", broken}, 1, "FAIL a failed call goes to ops"},
		{"a failing test fails check", []string{"check", "--config", broken}, 1, problem},
		{"a failing test stops serve", []string{"serve", "--config", broken}, 1, problem},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d and %q\nstdout: %s\nstderr: %s", code, tt.wantCode, tt.want, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "sb.db")); err == nil {
		t.Error("serve created the database although a test failed")
	}
}
