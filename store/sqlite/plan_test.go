package sqlite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// fullScan returns the first step of plan (steps joined by "; ") that reads a whole table of the
// queue rather than an index ("SCAN deliveries" without "USING ... INDEX"), or "".
func fullScan(plan string) string {
	for _, step := range strings.Split(plan, "; ") {
		f := strings.Fields(step)
		if len(f) >= 2 && f[0] == "SCAN" && !strings.Contains(step, "INDEX") {
			switch f[1] {
			case "deliveries", "calls", "delivery_attempts":
				return step
			}
		}
	}
	return ""
}

// TestQueryPlans checks that the queries run on every claim, wakeup and metrics scrape read their
// small partial indexes, never the table of delivered rows, which grows with traffic. It checks each
// plan twice: on an empty database, and on one holding a backlog (pending deliveries for two sinks
// among many more delivered ones) after ANALYZE, so the planner decides with real statistics as it
// does after `PRAGMA optimize` on a long-running store.
func TestQueryPlans(t *testing.T) {
	tests := []struct {
		name  string
		query string
		args  []any
		want  []string // substrings every one of which must appear in the plan
	}{
		{name: "stats", query: statsSQL, want: []string{"SCAN c", "COVERING INDEX deliveries_unfinished (sink=? AND state=? AND attempts=?)"}},
		{name: "claim", query: claimSQL, args: []any{"w", 1, 1, 1, "a", 1, 10}, want: []string{"INDEX deliveries_due (sink=? AND due_at>? AND due_at<?)"}},
		{name: "next due", query: nextDueSQL, args: []any{"a"}, want: []string{"INDEX deliveries_due (sink=?"}},
		{name: "queued sinks", query: store.QueuedSinksSQL, want: []string{"COVERING INDEX deliveries_due (sink>?)"}},
		{name: "finish", query: finishUpdateSQL, args: []any{"delivered", 0, nil, "", "", 200, 1, 1, "w"}, want: []string{"INTEGER PRIMARY KEY (rowid=?)"}},
		{name: "delivery exists", query: deliveryExistsSQL, args: []any{1}, want: []string{"INTEGER PRIMARY KEY (rowid=?)"}},
		{name: "restart before", query: restartBeforeSQL, args: []any{1, 1, 1, 1, "a", 1, 10}, want: []string{"INDEX deliveries_due (sink=? AND due_at>? AND due_at<?)", "INTEGER PRIMARY KEY"}},
		{name: "restart after", query: restartAfterSQL, args: []any{1, 1, 1, 1, "a", 1, 1, 10}, want: []string{"INDEX deliveries_due (sink=? AND due_at>?)", "INTEGER PRIMARY KEY"}},
		{name: "purge deliveries", query: purgeSteps[0].sql, args: []any{1, 10}, want: []string{"INDEX deliveries_finished (state=? AND updated_at<?)"}},
		{name: "purge dead deliveries", query: purgeSteps[1].sql, args: []any{1, 10}, want: []string{"INDEX deliveries_finished (state=? AND updated_at<?)"}},
		{name: "purge calls", query: purgeSteps[3].sql, args: []any{1, 10}, want: []string{"INDEX calls_received (received_at<?)", "INDEX deliveries_call (call_id=?)"}},
		{name: "list calls", query: `SELECT id FROM calls ORDER BY received_at DESC, id DESC LIMIT ?`, args: []any{10}, want: []string{"INDEX calls_received"}},
		{name: "list calls page", query: `SELECT id FROM calls WHERE (received_at, id) < (?, ?) ORDER BY received_at DESC, id DESC LIMIT ?`,
			args: []any{1, 1, 10}, want: []string{"INDEX calls_received (received_at<?)"}},
		{name: "dead letters", query: `SELECT ` + deliveryCols + ` FROM deliveries WHERE state = ? ORDER BY id LIMIT ?`, args: []any{"dead", 100}, want: []string{"INDEX deliveries_state (state=?)"}},
	}
	databases := []struct {
		name    string
		backlog bool
	}{
		{name: "empty"},
		{name: "backlog analyzed", backlog: true},
	}
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			s, _ := openTemp(t, Options{})
			if db.backlog {
				fillPlanBacklog(t, s)
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := explain(t, s, tt.query, tt.args)
					for _, w := range tt.want {
						if !strings.Contains(got, w) {
							t.Errorf("plan = %q, want it to contain %q", got, w)
						}
					}
					t.Logf("plan: %s", got)
					if m := fullScan(got); m != "" {
						t.Errorf("plan = %q: %q reads a whole table, want an index", got, m)
					}
				})
			}
		})
	}
}

// TestFullScanPattern checks that fullScan tells a table scan from an index scan.
func TestFullScanPattern(t *testing.T) {
	tests := []struct {
		plan string
		want bool
	}{
		{plan: "SCAN deliveries", want: true},
		{plan: "SCAN deliveries; USE TEMP B-TREE FOR ORDER BY", want: true},
		{plan: "SCAN calls", want: true},
		{plan: "SCAN deliveries USING COVERING INDEX deliveries_unfinished", want: false},
		{plan: "SCAN deliveries USING INDEX deliveries_due", want: false},
		{plan: "SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)", want: false},
		{plan: "SCAN sink_states", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			if got := fullScan(tt.plan) != ""; got != tt.want {
				t.Errorf("fullScan(%q) found a scan = %v, want %v", tt.plan, got, tt.want)
			}
		})
	}
}

// fillPlanBacklog ingests calls with deliveries to three sinks, marks those of sink "c" delivered
// (the bulk of a long-running store), leaves those of "a" and "b" queued, and runs ANALYZE.
func fillPlanBacklog(t *testing.T, s *Store) {
	t.Helper()
	const calls, workers = 3000, 16
	ctx := context.Background()
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < calls; i += workers {
				ds := []store.NewDelivery{
					{Rule: "r", Action: 0, Sink: "a", Message: []byte(`{}`)},
					{Rule: "r", Action: 1, Sink: "b", Message: []byte(`{}`)},
				}
				for k := range 6 {
					ds = append(ds, store.NewDelivery{Rule: "r", Action: 2 + k, Sink: "c", Message: []byte(`{}`)})
				}
				if _, err := s.Ingest(ctx, &store.Call{ID: int64(i + 1), ReceivedAt: now, Raw: []byte(`{}`)}, ds); err != nil {
					errs <- fmt.Errorf("ingest call %d: %w", i+1, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE deliveries SET state = 'delivered', due_at = NULL WHERE sink = 'c'`,
		`ANALYZE`,
	} {
		if _, err := s.write.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
