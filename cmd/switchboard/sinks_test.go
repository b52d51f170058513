package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// TestSinksPauseResume runs `switchboard sinks`, `pause` and `resume` against a real database: the
// state is stored with who asked ("cli"), listed, and the exit codes follow README (0 ok, 1 failure,
// 2 usage). A missing database is never created.
func TestSinksPauseResume(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("storage: {path: ./sb.db}\nsinks: {l: {type: log}, crm: {type: log}}\nrules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "sb.db")
	seedDeadLetter(t, db)
	missing := filepath.Join(dir, "missing.yaml")
	if err := os.WriteFile(missing, []byte("storage: {path: ./none/sb.db}\nsinks: {l: {type: log}}\nrules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr string   // substring
	}{
		{"list", []string{"sinks", "--config", cfg}, 0, []string{"SINK", "l     log   active  0", "crm   log   active"}, ""},
		{"pause", []string{"pause", "--config", cfg, "crm"}, 0, []string{"sink crm paused (was active)"}, ""},
		{"pause again", []string{"pause", "crm", "--config", cfg}, 0, []string{"sink crm is already paused"}, ""},
		{"listed paused", []string{"sinks", "--config", cfg}, 0, []string{"crm   log   paused"}, ""},
		{"resume", []string{"resume", "--config", cfg, "crm"}, 0, []string{"sink crm resumed (was paused)"}, ""},
		{"unknown sink", []string{"pause", "--config", cfg, "nope"}, 1, nil, `sink "nope" is not configured (sinks: l, crm)`},
		{"no sink", []string{"pause", "--config", cfg}, 2, nil, "Usage: switchboard pause"},
		{"two sinks", []string{"resume", "--config", cfg, "l", "crm"}, 2, nil, "Usage: switchboard resume"},
		{"sinks takes no argument", []string{"sinks", "--config", cfg, "l"}, 2, nil, ""},
		{"missing database", []string{"pause", "--config", missing, "l"}, 1, nil, "does not exist"},
		{"missing database list", []string{"sinks", "--config", missing}, 1, nil, "does not exist"},
	}
	for _, s := range steps {
		code, out, errOut := runCLI(t, "", s.args...)
		if code != s.wantCode || !strings.Contains(errOut, s.wantStderr) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d, stderr containing %q", s.name, code, out, errOut, s.wantCode, s.wantStderr)
		}
		for _, w := range s.wantStdout {
			if !strings.Contains(out, w) {
				t.Errorf("%s: stdout %q, want it to contain %q", s.name, out, w)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Errorf("a missing database's folder exists (%v): pause created storage", err)
	}

	code, out, _ := runCLI(t, "", "sinks", "--config", cfg, "--json")
	var body struct {
		Sinks []struct {
			Name  string `json:"name"`
			State string `json:"state"`
			Dead  int    `json:"dead"`
		} `json:"sinks"`
	}
	if err := json.Unmarshal([]byte(out), &body); code != 0 || err != nil || len(body.Sinks) != 2 || body.Sinks[0].Dead != 1 {
		t.Fatalf("sinks --json: exit %d, %v, %+v; want two sinks, l with its dead letter", code, err, body)
	}

	st, err := sqlite.Open(db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.SinkStatuses(context.Background())
	if err != nil || len(all) != 1 || all[0].Sink != "crm" || all[0].State != store.SinkActive || all[0].ChangedBy != "cli" {
		t.Errorf("stored states = %+v, %v; want crm active, changed by cli", all, err)
	}
}
