package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

// v1Seed is data as the first released schema held it: call 1 with a pending delivery that was
// replayed after two attempts (its history numbered 1, 2, then 1 again) and was not claimed since.
const v1Seed = `
INSERT INTO calls (id, received_at, status, matched, raw) VALUES (1, 1000000000000, 'completed', '["r"]', '{"id":1}');
INSERT INTO deliveries (id, call_id, rule, action, sink, message, state, attempts, next_attempt_at, due_at,
	received_at, queued_at, updated_at) VALUES (1, 1, 'r', 0, 'a', '{}', 'pending', 0, 1000000000000, 1000000000000,
	1000000000000, 1000000000000, 1000000000000);
INSERT INTO delivery_attempts (delivery_id, number, started_at, duration, result) VALUES
	(1, 1, 1000000000000, 1, 'retry'), (1, 2, 1000000000000, 1, 'permanent'), (1, 1, 1000000000000, 1, 'retry');`

// openV1 creates a database at the first schema version holding v1Seed, as an earlier release left it.
func openV1(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		migrations[0],
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)`,
		v1Seed,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("build a version 1 database: %v", err)
		}
	}
	return path
}

func TestUpgradeFromVersion1(t *testing.T) {
	path := openV1(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(version 1 database) error = %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })

	t.Run("attempt numbers continue", func(t *testing.T) {
		got, err := s.Claim(t.Context(), "a", "w", 1, time.Minute, time.Unix(2000, 0))
		if err != nil || len(got) != 1 {
			t.Fatalf("Claim = %d deliveries, %v; want 1, nil", len(got), err)
		}
		if got[0].Attempts != 1 || got[0].AttemptNumber != 3 {
			t.Errorf("claimed delivery: Attempts %d AttemptNumber %d, want 1 and 3 (after the highest recorded, 2)", got[0].Attempts, got[0].AttemptNumber)
		}
	})
}

// TestUpgradeKeepsWorking checks, on a version 1 database, what later versions read differently:
// paging by arrival and telling a duplicate from a conflict against a call stored by the old version.
func TestUpgradeKeepsWorking(t *testing.T) {
	s, err := Open(openV1(t), Options{})
	if err != nil {
		t.Fatalf("Open(version 1 database) error = %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.UpgradeChecks(t, s)
}

// TestUpgradeAllowsNotifications checks that version 4's edit of the deliveries table (call_id no
// longer NOT NULL) takes effect on a database that existed before, on the connection that migrated.
func TestUpgradeAllowsNotifications(t *testing.T) {
	s, err := Open(openV1(t), Options{})
	if err != nil {
		t.Fatalf("Open(version 1 database) error = %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	id, err := s.AddNotification(t.Context(), store.Notification{Kind: "sink_down", Sink: "ops", Message: []byte(`{}`)}, time.Unix(3000, 0))
	if err != nil {
		t.Fatalf("AddNotification error = %v, want nil", err)
	}
	if d, err := s.GetDelivery(t.Context(), id); err != nil || d.CallID != 0 || d.Rule != "notify:sink_down" {
		t.Errorf("GetDelivery(%d) = %+v, %v; want a notification without a call", id, d, err)
	}
	var check string
	if err := s.write.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v; want ok", check, err)
	}
}

// TestUpgradeCountsQueue checks that version 7 counts the deliveries queued before it, for Stats.
func TestUpgradeCountsQueue(t *testing.T) {
	s, err := Open(openV1(t), Options{})
	if err != nil {
		t.Fatalf("Open(version 1 database) error = %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	got, err := s.Stats(t.Context())
	if err != nil || len(got) != 1 || got[0].Sink != "a" || got[0].Pending != 1 || !got[0].OldestPending.Equal(time.Unix(1000, 0)) {
		t.Fatalf("Stats = %+v, %v; want sink a with 1 pending, oldest at %s", got, err, time.Unix(1000, 0).UTC())
	}
}
