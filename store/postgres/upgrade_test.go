package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store/storetest"
)

// v1Seed is data as the first released schema held it: call 1 with a pending delivery that was
// replayed after two attempts (its history numbered 1, 2, then 1 again) and was not claimed since.
const v1Seed = `
INSERT INTO calls (id, received_at, status, matched, raw) VALUES (1, to_timestamp(1000), 'completed', '{r}', '{"id":1}');
INSERT INTO deliveries (id, call_id, rule, action, sink, message, state, attempts, next_attempt_at, due_at,
	received_at, queued_at, updated_at) OVERRIDING SYSTEM VALUE VALUES (1, 1, 'r', 0, 'a', '{}', 'pending', 0,
	to_timestamp(1000), to_timestamp(1000), to_timestamp(1000), to_timestamp(1000), to_timestamp(1000));
INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ns, result) VALUES
	(1, 1, to_timestamp(1000), 1, 'retry'), (1, 2, to_timestamp(1000), 1, 'permanent'), (1, 1, to_timestamp(1000), 1, 'retry');`

// schemaV1 returns the DSN of a new schema at the first version holding v1Seed, as an earlier
// release left it.
func schemaV1(t *testing.T) string {
	t.Helper()
	dsn := newSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		migrations[0],
		`INSERT INTO schema_migrations (version) VALUES (1)`,
		v1Seed,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("build a version 1 schema: %v", err)
		}
	}
	return dsn
}

func TestUpgradeFromVersion1(t *testing.T) {
	s := open(t, schemaV1(t))

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

// TestUpgradeKeepsWorking checks, on a version 1 schema, what later versions read differently:
// paging by arrival and telling a duplicate from a conflict against a call stored by the old version.
func TestUpgradeKeepsWorking(t *testing.T) {
	storetest.UpgradeChecks(t, open(t, schemaV1(t)))
}
