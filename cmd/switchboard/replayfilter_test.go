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

// seedFiltered creates an SQLite database at path holding dead deliveries that differ by sink,
// reason and time of death: call 1 (crm, client_error, 3h ago), call 2 (crm, server_error, 1h ago),
// call 3 (slack, client_error, 1h ago).
func seedFiltered(t *testing.T, path string) {
	t.Helper()
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for _, c := range []struct {
		id     int64
		ago    time.Duration
		sink   string
		reason string
	}{{1, 3 * time.Hour, "crm", "client_error"}, {2, time.Hour, "crm", "server_error"}, {3, time.Hour, "slack", "client_error"}} {
		d := store.NewDelivery{Rule: "hot", Sink: c.sink, Message: []byte(`{}`), Dead: true, Reason: c.reason, Error: "status 400 for +14155550123"}
		if _, err := st.Ingest(context.Background(), &store.Call{ID: c.id, ReceivedAt: now.Add(-c.ago), Raw: []byte(`{}`)}, []store.NewDelivery{d}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplayFilters(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string   // in stdout or stderr
		wantDead []string // sinks of the deliveries left dead, by call id order
	}{
		{"sink", []string{"--dead", "--sink", "crm"}, 0, "requeued 2 deliveries\n", []string{"slack"}},
		{"sink and reason", []string{"--dead", "--sink", "crm", "--reason", "client_error"}, 0, "requeued 1 deliveries\n", []string{"crm", "slack"}},
		{"since", []string{"--dead", "--since", "2h"}, 0, "requeued 2 deliveries\n", []string{"crm"}},
		{"until a duration ago", []string{"--dead", "--until", "2h"}, 0, "requeued 1 deliveries\n", []string{"crm", "slack"}},
		{"rule", []string{"--dead", "--rule", "cold"}, 0, "requeued 0 deliveries (no dead delivery matches)\n", []string{"crm", "crm", "slack"}},
		{"dry run", []string{"--dead", "--sink", "crm", "--dry-run"}, 0, "would requeue 2 deliveries (dry run: nothing requeued)\n", []string{"crm", "crm", "slack"}},
		{"dry run lists masked", []string{"--dead", "--reason", "server_error", "--dry-run"}, 0, "call 2\trule hot\tsink crm\tdied ", []string{"crm", "crm", "slack"}},
		{"dry run matching nothing", []string{"--dead", "--sink", "x", "--dry-run"}, 0, "would requeue 0 deliveries (no dead delivery matches)\n", []string{"crm", "crm", "slack"}},
		{"unknown reason", []string{"--dead", "--reason", "nope"}, 2, `unknown reason "nope"`, []string{"crm", "crm", "slack"}},
		{"bad until", []string{"--dead", "--until", "tomorrow"}, 2, "--until: must be a duration ago", []string{"crm", "crm", "slack"}},
		{"filter without --dead", []string{"--call", "1", "--sink", "crm"}, 2, "go with --dead", []string{"crm", "crm", "slack"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "sb.db")
			seedFiltered(t, db)
			cfg := filepath.Join(dir, "sb.yaml")
			if err := os.WriteFile(cfg, []byte("storage: {path: sb.db}\nsinks: {l: {type: log}}\nrules: []\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "", append([]string{"replay", "--config", cfg}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.wantCode, tt.want)
			}
			if strings.Contains(out, "+14155550123") {
				t.Errorf("stdout shows a phone number: %q", out)
			}
			st, err := sqlite.Open(db, sqlite.Options{MustExist: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			dead, err := st.ListDeliveries(t.Context(), store.DeliveryFilter{State: store.Dead})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range dead {
				got = append(got, d.Sink)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantDead, ",") {
				t.Errorf("left dead: %v, want %v", got, tt.wantDead)
			}
		})
	}
}
