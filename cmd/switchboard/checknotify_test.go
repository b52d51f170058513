package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckNotify: check reports every problem of the notify section and server.public_url with its
// file and line, the text template included.
func TestCheckNotify(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	yaml := `sinks:
  ops: {type: log}
notify:
  dead_letters:
    sink: ops
    group_wait: 500ms
    text: "{{ cuont }} failed"
  sink_down:
    sink: nope
server:
  public_url: "ftp://x"
rules: []
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "check", "--config", cfg)
	if code != 1 {
		t.Errorf("check exit %d, want 1", code)
	}
	for _, want := range []string{
		cfg + ":6: notify.dead_letters.group_wait: must be at least 1s, got 500ms",
		cfg + `:7: notify.dead_letters.text: unknown name cuont in "{{ cuont }}"`,
		cfg + `:9: notify.sink_down.sink: undefined sink "nope" (defined: "ops")`,
		cfg + `:11: server.public_url: must be the URL at which people reach this server`,
	} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("check output does not contain %q:\n%s%s", want, out, errOut)
		}
	}
}
