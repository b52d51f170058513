package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
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
	storetest.CheckBackfilled(t, s, n)
	var left int
	if err := s.read.QueryRow(`SELECT count(*) FROM calls WHERE indexed = 0`).Scan(&left); err != nil || left != 0 {
		t.Errorf("unindexed calls = %d, %v; want 0", left, err)
	}
}

// TestConsoleQueryPlans: the console's searches read an index that matches their filter, never the
// whole table of calls (they must stay fast with hundreds of thousands of calls).
func TestConsoleQueryPlans(t *testing.T) {
	s, _ := openTemp(t, Options{})
	t0 := time.Unix(1_000_000, 0)
	tests := []struct {
		name string
		q    store.CallQuery
		want []string
		not  []string
	}{
		{"newest", store.CallQuery{}, []string{"INDEX calls_received"}, []string{"TEMP B-TREE"}},
		{"page", store.CallQuery{BeforeTime: t0, BeforeID: 5}, []string{"INDEX calls_received (received_at<?)"}, []string{"TEMP B-TREE"}},
		{"phone", store.CallQuery{Q: "4567"}, []string{"MULTI-INDEX OR", "INDEX calls_phone (phone_rev>? AND phone_rev<?)"}, []string{"SCAN c"}},
		{"call id", store.CallQuery{Q: "45"}, []string{"INTEGER PRIMARY KEY (rowid=?)"}, []string{"SCAN"}},
		{"status", store.CallQuery{Status: "busy", From: t0}, []string{"INDEX calls_status (status=? AND received_at>?)"}, []string{"TEMP B-TREE"}},
		{"rule", store.CallQuery{Rule: "hot"}, []string{"INDEX call_rules_rule (rule=?)"}, []string{"TEMP B-TREE", "SCAN c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query, args, ok := callSearchSQL(tt.q)
			if !ok {
				t.Fatal("no query")
			}
			got := explain(t, s, query, args)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("plan = %q, want %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("plan = %q, want no %q", got, n)
				}
			}
		})
	}
	for name, tc := range map[string]struct {
		q    store.DeliveryQuery
		want string
	}{
		"dead of a sink": {store.DeliveryQuery{State: store.Dead, Sink: "crm"}, "INDEX deliveries_dead_sink (sink=?)"},
		"dead of a rule": {store.DeliveryQuery{State: store.Dead, Rule: "hot"}, "INDEX deliveries_dead_rule (rule=?)"},
		"dead":           {store.DeliveryQuery{State: store.Dead}, "INDEX deliveries_state (state=?)"},
		"sink":           {store.DeliveryQuery{Sink: "crm"}, "INDEX deliveries_sink (sink=?)"},
	} {
		t.Run(name, func(t *testing.T) {
			where, args := deliveryWhere(tc.q, true)
			got := explain(t, s, `SELECT `+deliveryCols+` FROM deliveries`+where+` ORDER BY id DESC LIMIT 50`, args)
			if !strings.Contains(got, tc.want) {
				t.Errorf("plan = %q, want %q", got, tc.want)
			}
		})
	}
}

func explain(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	rows, err := s.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}
