package sqlite

import (
	"strings"
	"testing"
)

// TestQueryPlans checks that the queries run on every claim, wakeup and metrics scrape read their
// small partial indexes, never the table of delivered rows, which grows with traffic.
func TestQueryPlans(t *testing.T) {
	s, _ := openTemp(t, Options{})
	tests := []struct {
		name  string
		query string
		args  []any
		want  []string // substrings every one of which must appear in the plan
	}{
		{name: "stats", query: statsSQL, want: []string{"COVERING INDEX deliveries_unfinished"}},
		{name: "claim", query: claimSQL, args: []any{"w", 1, 1, 1, "a", 1, 10}, want: []string{"INDEX deliveries_due (sink=? AND due_at>? AND due_at<?)"}},
		{name: "next due", query: nextDueSQL, args: []any{"a"}, want: []string{"INDEX deliveries_due (sink=?"}},
		{name: "queued sinks", query: queuedSinksSQL, want: []string{"INDEX deliveries_due"}},
		{name: "purge deliveries", query: purgeSteps[0].sql, args: []any{1, 10}, want: []string{"INDEX deliveries_finished (state=? AND updated_at<?)"}},
		{name: "purge dead deliveries", query: purgeSteps[1].sql, args: []any{1, 10}, want: []string{"INDEX deliveries_finished (state=? AND updated_at<?)"}},
		{name: "purge calls", query: purgeSteps[3].sql, args: []any{1, 10}, want: []string{"INDEX calls_received (received_at<?)", "INDEX deliveries_call (call_id=?)"}},
		{name: "list calls", query: `SELECT id FROM calls ORDER BY received_at DESC, id DESC LIMIT ?`, args: []any{10}, want: []string{"INDEX calls_received"}},
		{name: "list calls page", query: `SELECT id FROM calls WHERE (received_at, id) < (?, ?) ORDER BY received_at DESC, id DESC LIMIT ?`,
			args: []any{1, 1, 10}, want: []string{"INDEX calls_received (received_at<?)"}},
		{name: "dead letters", query: `SELECT ` + deliveryCols + ` FROM deliveries WHERE state = ? ORDER BY id LIMIT ?`, args: []any{"dead", 100}, want: []string{"INDEX deliveries_state (state=?)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.write.Query(`EXPLAIN QUERY PLAN `+tt.query, tt.args...)
			if err != nil {
				t.Fatalf("explain: %v", err)
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
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(plan, "; ")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("plan = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}
