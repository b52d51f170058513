package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// TestReplayFindsTheDatabaseBesideTheConfig runs replay from another folder with a config given by a
// relative path: the relative storage.path is the config file's, and a database that is not there is
// an error naming it, never a new empty database.
func TestReplayFindsTheDatabaseBesideTheConfig(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "work")
	for _, d := range []string{work, filepath.Join(root, "conf"), filepath.Join(root, "fresh")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	const yaml = "storage: {path: ./data/sb.db}\nsinks: {l: {type: log}}\nrules: []\n"
	for _, f := range []string{filepath.Join(root, "conf", "c.yaml"), filepath.Join(root, "fresh", "c.yaml")} {
		if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	seedDeadLetter(t, filepath.Join(root, "conf", "data", "sb.db"))
	t.Chdir(work)

	tests := []struct {
		name       string
		config     string
		wantCode   int
		wantStdout string
		wantStderr string
		// absent must still not exist afterwards.
		absent string
	}{
		{name: "relative storage.path is the config's", config: filepath.Join("..", "conf", "c.yaml"),
			wantCode: 0, wantStdout: "requeued 1 deliveries\n", absent: filepath.Join(work, "data")},
		{name: "missing database is not created", config: filepath.Join("..", "fresh", "c.yaml"),
			wantCode: 1, wantStderr: "switchboard replay: storage: " + filepath.Join(root, "fresh", "data", "sb.db") +
				" does not exist (run serve first, or check storage.path)\n", absent: filepath.Join(root, "fresh", "data")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "replay", "--config", tt.config, "--dead")
			if code != tt.wantCode || out != tt.wantStdout || errOut != tt.wantStderr {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", code, out, errOut, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
			if _, err := os.Stat(tt.absent); !os.IsNotExist(err) {
				t.Errorf("%s exists after replay (%v): replay created storage", tt.absent, err)
			}
		})
	}
}

// seedDeadLetter creates an SQLite database at path holding one call with one dead delivery.
func seedDeadLetter(t *testing.T, path string) {
	t.Helper()
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &store.Call{ID: 7, ReceivedAt: time.Now(), Status: "completed", Raw: []byte(`{"id":7}`)}
	d := store.NewDelivery{Rule: "r", Sink: "l", Message: []byte(`{"text":"hi"}`), Dead: true, Reason: "config", Error: "seeded"}
	if _, err := st.Ingest(context.Background(), c, []store.NewDelivery{d}); err != nil {
		t.Fatal(err)
	}
}

// TestExitCodes checks that every command exits 0 on success, 1 on a failure it reports, and 2 on a
// usage error, as README's command table says.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	seedDeadLetter(t, filepath.Join(dir, "sb.db"))
	cfg := filepath.Join(dir, "sb.yaml")
	if err := os.WriteFile(cfg, []byte("storage: {path: sb.db}\nsinks: {l: {type: log}}\nrules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(dir, "invalid.yaml")
	if err := os.WriteFile(invalid, []byte("server: {listn: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		// want is in stdout or stderr.
		want string
	}{
		{"replay requeues", []string{"replay", "--config", cfg, "--dead"}, 0, "requeued 1 deliveries"},
		{"replay a call without dead deliveries", []string{"replay", "--config", cfg, "--call", "7"}, 0, "requeued 0 deliveries"},
		{"replay a known delivery", []string{"replay", "--config", cfg, "--delivery", "1"}, 0, "requeued 1 deliveries"},
		{"replay an unknown delivery", []string{"replay", "--config", cfg, "--delivery", "99"}, 1, "switchboard replay: delivery 99 does not exist\n"},
		{"replay an unknown call", []string{"replay", "--config", cfg, "--call", "99"}, 1, "switchboard replay: call 99 does not exist\n"},
		{"replay with an invalid config", []string{"replay", "--config", invalid, "--dead"}, 1, `server.listn: unknown key`},
		{"replay a negative id", []string{"replay", "--config", cfg, "--call", "-3"}, 2, "take a positive id"},
		{"replay an unknown flag", []string{"replay", "--config", cfg, "--all"}, 2, "flag provided but not defined"},
		{"replay a stray argument", []string{"replay", "--config", cfg, "--dead", "7"}, 2, "Usage of switchboard replay"},
		{"check an unknown flag", []string{"check", "--strict"}, 2, "flag provided but not defined"},
		{"check an invalid config", []string{"check", "--config", invalid}, 1, "1 problem(s)"},
		{"test an unknown flag", []string{"test", "--yaml", "x.json"}, 2, "flag provided but not defined"},
		{"test with an invalid config", []string{"test", "--config", invalid, "x.json"}, 1, `server.listn: unknown key`},
		{"serve a stray argument", []string{"serve", "--config", cfg, "now"}, 2, "Usage of switchboard serve"},
		{"serve an invalid config", []string{"serve", "--config", invalid}, 1, `server.listn: unknown key`},
		{"version", []string{"version"}, 0, "switchboard "},
		{"version with an argument", []string{"version", "--short"}, 2, "takes no arguments"},
		{"help", []string{"help"}, 0, "Exit status: 0 success, 1 failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.wantCode, tt.want)
			}
		})
	}
}
