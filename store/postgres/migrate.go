package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema changes in order; migrations[i] brings the schema to version i+1. Each is
// applied once, in its own transaction, and recorded in schema_migrations. Never edit a released
// migration: append a new one.
//
// The tables mirror the SQLite store's. due_at is when a delivery can next be claimed (next_attempt_at
// while pending, lease_expires while in flight) and NULL once it is delivered or dead, so that Claim,
// NextDue and QueuedSinks read one small partial index. Tables are created unqualified, so they land in
// the first schema of the connection's search_path.
var migrations = []string{
	// 1: calls, deliveries and attempts.
	`CREATE TABLE calls (
		id          bigint      PRIMARY KEY,
		received_at timestamptz NOT NULL,
		status      text        NOT NULL DEFAULT '',
		matched     text[]      NOT NULL DEFAULT '{}',
		raw         bytea
	);
	CREATE INDEX calls_received_at ON calls (received_at);

	CREATE TABLE deliveries (
		id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		call_id         bigint      NOT NULL REFERENCES calls (id),
		rule            text        NOT NULL,
		action          integer     NOT NULL,
		sink            text        NOT NULL,
		message         bytea,
		state           text        NOT NULL CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),
		attempts        integer     NOT NULL DEFAULT 0,
		next_attempt_at timestamptz NOT NULL,
		due_at          timestamptz,
		received_at     timestamptz NOT NULL,
		queued_at       timestamptz NOT NULL,
		lease_owner     text        NOT NULL DEFAULT '',
		lease_expires   timestamptz,
		last_error      text        NOT NULL DEFAULT '',
		last_reason     text        NOT NULL DEFAULT '',
		last_status     integer     NOT NULL DEFAULT 0,
		updated_at      timestamptz NOT NULL
	);
	CREATE INDEX deliveries_call ON deliveries (call_id);
	-- Claim, NextDue, QueuedSinks: only queued rows are in this index.
	CREATE INDEX deliveries_due ON deliveries (sink, due_at, id) WHERE due_at IS NOT NULL;
	-- Stats: delivered rows, the vast majority, are not in this index, and it covers the query.
	CREATE INDEX deliveries_unfinished ON deliveries (sink, state, attempts, queued_at) WHERE state <> 'delivered';
	-- Purge.
	CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state IN ('delivered', 'dead');

	CREATE TABLE delivery_attempts (
		id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		delivery_id bigint      NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
		number      integer     NOT NULL,
		started_at  timestamptz NOT NULL,
		duration_ns bigint      NOT NULL,
		result      text        NOT NULL,
		status_code integer     NOT NULL DEFAULT 0,
		reason      text        NOT NULL DEFAULT '',
		error       text        NOT NULL DEFAULT ''
	);
	CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);`,

	// 2: attempt numbers only grow. attempts is reset by a replay (it is the max_attempts budget);
	// attempt_number numbers the history and never goes back. Existing deliveries continue from the
	// highest number they have recorded.
	`ALTER TABLE deliveries ADD COLUMN attempt_number integer NOT NULL DEFAULT 0;
	UPDATE deliveries d SET attempt_number = greatest(d.attempts,
		coalesce((SELECT max(number) FROM delivery_attempts a WHERE a.delivery_id = d.id), 0))
	WHERE d.attempts > 0 OR EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id);`,

	// 3: ListCalls pages by arrival, newest first: (received_at, id). Purge reads it too.
	`DROP INDEX calls_received_at;
	CREATE INDEX calls_received ON calls (received_at, id);`,

	// 4: the console's indexed columns, as in the SQLite store. Ingest fills customer_phone,
	// phone_rev (the phone's digits reversed, so that "ends with" is a prefix range), duration and
	// the matched rules as rows; calls stored before are backfilled from their bodies by
	// backfillConsole (in Go: a body may be anything that decoded), which finds them by NOT indexed.
	`ALTER TABLE calls
		ADD COLUMN customer_phone text    NOT NULL DEFAULT '',
		ADD COLUMN phone_rev      text    COLLATE "C" NOT NULL DEFAULT '',
		ADD COLUMN duration       bigint  NOT NULL DEFAULT 0,
		ADD COLUMN indexed        boolean NOT NULL DEFAULT false;
	CREATE INDEX calls_unindexed ON calls (id) WHERE NOT indexed;
	CREATE INDEX calls_phone ON calls (phone_rev) WHERE phone_rev <> '';
	CREATE INDEX calls_status ON calls (status, received_at);
	CREATE INDEX calls_matched ON calls ((cardinality(matched) > 0), received_at);

	CREATE TABLE call_rules (
		call_id     bigint      NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
		rule        text        NOT NULL,
		received_at timestamptz NOT NULL,
		PRIMARY KEY (call_id, rule)
	);
	INSERT INTO call_rules (call_id, rule, received_at)
		SELECT c.id, m.rule, c.received_at FROM calls c, unnest(c.matched) AS m(rule)
		ON CONFLICT DO NOTHING;
	CREATE INDEX call_rules_rule ON call_rules (rule, received_at, call_id);
	CREATE INDEX call_rules_received ON call_rules (received_at, rule);

	CREATE INDEX deliveries_state ON deliveries (state, id);
	CREATE INDEX deliveries_sink ON deliveries (sink, id);
	CREATE INDEX deliveries_rule ON deliveries (rule, id);
	-- Dead letters by sink or rule, newest first: small, and changed only when a delivery dies or is
	-- replayed.
	CREATE INDEX deliveries_dead_sink ON deliveries (sink, id) WHERE state = 'dead';
	CREATE INDEX deliveries_dead_rule ON deliveries (rule, id) WHERE state = 'dead';`,

	// 5: sink states (pause, hold), shared by every replica. A sink without a row is active.
	// failing_since is the first retryable failure after the last success (NULL: none).
	`CREATE TABLE sink_states (
		sink          text        PRIMARY KEY,
		state         text        NOT NULL CHECK (state IN ('active', 'paused', 'held')),
		changed_at    timestamptz,
		changed_by    text        NOT NULL DEFAULT '',
		failing_since timestamptz,
		last_error    text        NOT NULL DEFAULT '',
		last_error_at timestamptz,
		probe_owner   text        NOT NULL DEFAULT '',
		probe_expires timestamptz
	);`,

	// 6: notifications: a delivery may have no call, and dead deliveries wait in notify_pending to
	// be notified (notify.go).
	notifyMigration,
}

// migrationLock is the first key of the advisory lock taken while migrating; the second is a hash of
// the schema, so that replicas of one deployment wait for each other and other schemas do not.
const migrationLock = 0x5357_4244 // "SWBD"

// migrate brings the schema up to date. It holds a session advisory lock on one connection for the
// whole run, so replicas starting at once apply each migration exactly once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Release()

	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("read current schema: %w", err)
	}
	if schema == nil {
		return fmt.Errorf("find schema: no schema of the search_path exists: create it or fix search_path in storage.dsn")
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, migrationLock, *schema); err != nil {
		return fmt.Errorf("lock schema for migration: %w", err)
	}
	defer func() {
		// A fresh context: the lock must be released even when ctx is done. If this fails the
		// connection is broken, and the server releases session locks when it goes.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext($2))`, migrationLock, *schema)
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("check schema version: database schema version %d is newer than this build knows (%d): run a newer switchboard", current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
	}
	return nil
}
