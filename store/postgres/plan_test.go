package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// TestQueryPlans checks that the queries run on every claim, finish, wakeup, metrics scrape and
// resume can read an index of deliveries rather than the whole table: on a table holding a backlog
// (pending deliveries of two sinks among many more delivered ones, analyzed), with sequential scans
// priced out (enable_seqscan = off), no plan may still contain "Seq Scan on deliveries", which
// PostgreSQL keeps only when no index serves the query. EXPLAIN without ANALYZE runs nothing.
func TestQueryPlans(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	fillPlanBacklog(t, s)
	now := time.Now()
	tests := []struct {
		name  string
		query string
		args  []any
		want  string // what the plan must contain (an index's name, or its condition)
	}{
		{name: "claim", query: claimSQL, args: []any{"a", now, 16, "w", now}, want: "deliveries_due"},
		{name: "next due", query: nextDueSQL, args: []any{"a"}, want: "deliveries_due"},
		{name: "queued sinks", query: store.QueuedSinksSQL, want: "deliveries_due"},
		{name: "stats", query: statsSQL, want: "deliveries_unfinished"},
		{name: "finish", query: finishSQL, args: []any{int64(1), "w", "delivered", now, "", "", 200, now, now, int64(1), "success"}, want: "(id = '1'::bigint)"},
		// A batch is a small part of the backlog it restarts (5 000 of 500 000), as 100 of 3 000 here.
		{name: "restart before", query: restartBeforeSQL, args: []any{"a", now, 100}, want: "Index Scan using deliveries_due"},
		{name: "restart after", query: restartAfterSQL, args: []any{"a", now, 100}, want: "Index Scan using deliveries_due"},
		{name: "purge deliveries", query: purgeSteps[0].sql, args: []any{now, 1000}, want: "deliveries_finished"},
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), `RESET enable_seqscan`) //nolint:errcheck // the connection is released next
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := conn.Query(ctx, `EXPLAIN `+tt.query, tt.args...)
			if err != nil {
				t.Fatalf("EXPLAIN: %v", err)
			}
			var lines []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, strings.TrimSpace(line))
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("EXPLAIN: %v", err)
			}
			plan := strings.Join(lines, "; ")
			t.Logf("plan: %s", plan)
			if strings.Contains(plan, "Seq Scan on deliveries") {
				t.Errorf("plan reads the whole deliveries table, want an index: %s", plan)
			}
			if !strings.Contains(plan, tt.want) {
				t.Errorf("plan does not contain %q: %s", tt.want, plan)
			}
		})
	}
}

// fillPlanBacklog stores 3 000 calls, each with a pending delivery to sinks "a" and "b" and six
// delivered ones to "c" (the bulk of a long-running store), and analyzes the tables.
func fillPlanBacklog(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO calls (id, received_at, status, matched, raw)
			SELECT i, now(), 'completed', '{}', '{}' FROM generate_series(1, 3000) i`,
		`INSERT INTO deliveries (call_id, rule, action, sink, message, state, next_attempt_at, due_at, received_at, queued_at, updated_at)
			SELECT i, 'r', k, CASE k WHEN 0 THEN 'a' WHEN 1 THEN 'b' ELSE 'c' END, '{}',
				CASE WHEN k < 2 THEN 'pending' ELSE 'delivered' END, now(),
				CASE WHEN k < 2 THEN now() END, now(), now(), now()
			FROM generate_series(1, 3000) i, generate_series(0, 7) k`,
		`ANALYZE`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
