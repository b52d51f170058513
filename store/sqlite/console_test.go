package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/switchboard-relay/switchboard/store"
)

// TestConsoleBackfill: calls stored before the console's migration are indexed from their bodies
// when a new build opens the file, in several batches.
func TestConsoleBackfill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	saved := migrations
	migrations = migrations[:1] // the schema as the previous release left it
	err = migrate(t.Context(), db)
	migrations = saved
	if err != nil {
		t.Fatalf("migrate to version 1: %v", err)
	}
	n := backfillBatch + 7
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		raw := fmt.Sprintf(`{"id":%d,"customer_phone":"+1555%07d","duration":%d,"status":"completed"}`, i, i, i)
		matched := `[]`
		if i%2 == 0 {
			matched = `["even"]`
		}
		if _, err := tx.Exec(`INSERT INTO calls (id, received_at, status, matched, raw) VALUES (?, ?, 'completed', ?, ?)`,
			i, int64(i)*1e9, matched, raw); err != nil {
			t.Fatal(err)
		}
	}
	// Bytes that are not UTF-8, and a body that is not JSON at all: indexed as empty, not an error.
	if _, err := tx.Exec(`INSERT INTO calls (id, received_at, status, matched, raw) VALUES (?, 1, '', '[]', ?), (?, 1, '', '[]', ?)`,
		n+1, []byte("{\"id\":1,\"customer_phone\":\"+1\xff\"}"), n+2, []byte("\xff\xfe")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after upgrade: %v", err)
	}
	defer s.Close()
	tests := []struct {
		name string
		q    store.CallQuery
		want int
	}{
		{"phone of the last call", store.CallQuery{Q: fmt.Sprintf("%07d", n)}, 1},
		{"rule rows", store.CallQuery{Rule: "even", Limit: 1000}, n / 2},
		{"unmatched", store.CallQuery{Matched: store.MatchedNo, Limit: 1000}, n - n/2 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchCalls(t.Context(), tt.q)
			if err != nil || len(got) != tt.want {
				t.Fatalf("SearchCalls(%+v) = %d calls, %v; want %d", tt.q, len(got), err, tt.want)
			}
			if tt.want == 1 && got[0].Duration != int64(n) {
				t.Errorf("duration = %d, want %d", got[0].Duration, n)
			}
		})
	}
	var left int
	if err := s.read.QueryRow(`SELECT count(*) FROM calls WHERE indexed = 0`).Scan(&left); err != nil || left != 0 {
		t.Errorf("unindexed calls = %d, %v; want 0", left, err)
	}
}
