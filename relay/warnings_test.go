package relay

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadLogsWarnings checks that the config's warnings reach the log at warn level, which is how
// serve reports them at start and on every reload, and that a valid config with warnings loads.
func TestLoadLogsWarnings(t *testing.T) {
	t.Setenv("CRM_TOKEN", "")
	path := filepath.Join(t.TempDir(), "sb.yaml")
	yml := "sinks:\n  crm:\n    type: webhook\n    url: https://crm.example.com/hook\n    headers: {Authorization: \"Bearer ${CRM_TOKEN}\"}\nrules: []\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	loaded, err := Load(path, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if n := len(loaded.Runtime.Config.Warnings); n != 1 {
		t.Fatalf("warnings = %d, want 1", n)
	}
	want := `level=WARN msg="config warning" warning="` + path + `:5: sinks.crm.headers.Authorization: warning: ${CRM_TOKEN} expands to an empty string (set CRM_TOKEN, or take the reference out of this secret)"`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("log:\n%s\nwant a line containing\n%s", buf.String(), want)
	}
}
