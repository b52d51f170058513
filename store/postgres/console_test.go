package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

// TestConsoleBackfill: calls stored before the console's migration are indexed from their bodies
// when a new build opens the schema, in several batches.
func TestConsoleBackfill(t *testing.T) {
	dsn := newSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// The schema as the previous release left it.
	if _, err := conn.Exec(ctx, migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO schema_migrations (version) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	n := backfillBatch + 7
	if _, err := conn.Exec(ctx, `INSERT INTO calls (id, received_at, status, matched, raw)
		SELECT i, to_timestamp(i), 'completed', CASE WHEN i % 2 = 0 THEN ARRAY['even'] ELSE ARRAY[]::text[] END,
			convert_to(format('{"id":%s,"customer_phone":"+1555%s","duration":%s}', i, lpad(i::text, 7, '0'), i), 'UTF8')
		FROM generate_series(1, $1) AS i`, n); err != nil {
		t.Fatal(err)
	}
	// Bytes that are not UTF-8 (a NUL escaped in JSON too), and a body that is not JSON: indexed, not an error.
	if _, err := conn.Exec(ctx, `INSERT INTO calls (id, received_at, status, matched, raw) VALUES ($1, now(), '', '{}', $2), ($3, now(), '', '{}', $4)`,
		n+1, []byte("{\"id\":1,\"customer_phone\":\"+1\xff\\u0000 9\"}"), n+2, []byte("\xff\xfe")); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	s := open(t, dsn)
	storetest.CheckBackfilled(t, s, n)
	var left int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM calls WHERE NOT indexed`).Scan(&left); err != nil || left != 0 {
		t.Errorf("unindexed calls = %d, %v; want 0", left, err)
	}
}

// TestConsoleOldReplica: during a rolling update a replica of the previous release stores calls
// without the console's columns and rule rows; the next start of any replica fills them in.
func TestConsoleOldReplica(t *testing.T) {
	dsn := newSchema(t)
	open(t, dsn).Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// As the previous release's insert does.
	if _, err := conn.Exec(ctx, `INSERT INTO calls (id, received_at, status, matched, raw)
		VALUES (7, now(), 'completed', ARRAY['hot'], '{"id":7,"customer_phone":"+15550104321"}')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	s := open(t, dsn)
	for _, q := range []store.CallQuery{{Rule: "hot"}, {Q: "4321"}, {Matched: store.MatchedYes}} {
		if got, err := s.SearchCalls(t.Context(), q); err != nil || len(got) != 1 {
			t.Errorf("SearchCalls(%+v) = %d calls, %v; want call 7", q, len(got), err)
		}
	}
}
