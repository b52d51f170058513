package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations are the schema changes in order; migrations[i] brings the schema to version i+1. Each is
// applied once, in its own transaction, and recorded in schema_migrations. Never edit a released
// migration: append a new one.
//
// Times are unix nanoseconds (UTC); 0 means "none". due_at is when a delivery can next be claimed
// (next_attempt_at while pending, lease_expires while in flight) and NULL once it is delivered or dead,
// so that Claim, NextDue and QueuedSinks read one small partial index.
var migrations = []string{
	// 1: calls, deliveries and attempts.
	`CREATE TABLE calls (
		id          INTEGER PRIMARY KEY,
		received_at INTEGER NOT NULL,
		status      TEXT    NOT NULL DEFAULT '',
		matched     TEXT    NOT NULL DEFAULT '[]',
		raw         BLOB
	);
	CREATE INDEX calls_received_at ON calls (received_at);

	CREATE TABLE deliveries (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		call_id         INTEGER NOT NULL REFERENCES calls (id),
		rule            TEXT    NOT NULL,
		action          INTEGER NOT NULL,
		sink            TEXT    NOT NULL,
		message         BLOB,
		state           TEXT    NOT NULL CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt_at INTEGER NOT NULL DEFAULT 0,
		due_at          INTEGER,
		received_at     INTEGER NOT NULL,
		queued_at       INTEGER NOT NULL,
		lease_owner     TEXT    NOT NULL DEFAULT '',
		lease_expires   INTEGER NOT NULL DEFAULT 0,
		last_error      TEXT    NOT NULL DEFAULT '',
		last_reason     TEXT    NOT NULL DEFAULT '',
		last_status     INTEGER NOT NULL DEFAULT 0,
		updated_at      INTEGER NOT NULL
	);
	CREATE INDEX deliveries_call ON deliveries (call_id);
	-- Claim, NextDue, QueuedSinks: only queued rows are in this index.
	CREATE INDEX deliveries_due ON deliveries (sink, due_at) WHERE due_at IS NOT NULL;
	-- Stats: delivered rows, the vast majority, are not in this index.
	CREATE INDEX deliveries_unfinished ON deliveries (sink, state, attempts, queued_at) WHERE state != 'delivered';
	-- Purge.
	CREATE INDEX deliveries_finished ON deliveries (state, updated_at) WHERE state IN ('delivered', 'dead');
	-- ListDeliveries by state (the admin API lists dead letters among many delivered rows).
	CREATE INDEX deliveries_state ON deliveries (state, id);

	CREATE TABLE delivery_attempts (
		id          INTEGER PRIMARY KEY,
		delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
		number      INTEGER NOT NULL,
		started_at  INTEGER NOT NULL,
		duration    INTEGER NOT NULL,
		result      TEXT    NOT NULL,
		status_code INTEGER NOT NULL DEFAULT 0,
		reason      TEXT    NOT NULL DEFAULT '',
		error       TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

	-- Requeue records one row per sink so that Watch in another process (the server, when
	-- switchboard replay requeued) learns of it by polling; Purge trims it.
	CREATE TABLE wakeups (
		id   INTEGER PRIMARY KEY AUTOINCREMENT,
		sink TEXT    NOT NULL,
		at   INTEGER NOT NULL
	);
	CREATE INDEX wakeups_at ON wakeups (at);`,

	// 2: attempt numbers only grow. attempts is reset by a replay (it is the max_attempts budget);
	// attempt_number numbers the history and never goes back. Existing deliveries continue from the
	// highest number they have recorded.
	`ALTER TABLE deliveries ADD COLUMN attempt_number INTEGER NOT NULL DEFAULT 0;
	UPDATE deliveries SET attempt_number = max(attempts,
		coalesce((SELECT max(number) FROM delivery_attempts a WHERE a.delivery_id = deliveries.id), 0))
	WHERE attempts > 0 OR EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = deliveries.id);`,

	// 3: ListCalls pages by arrival, newest first: (received_at, id). Purge reads it too.
	`DROP INDEX calls_received_at;
	CREATE INDEX calls_received ON calls (received_at, id);`,

	// 4: the console's indexed columns. Ingest fills customer_phone, phone_rev (the phone's digits
	// reversed, so that "ends with" is a prefix range), duration and matched_any, and a trigger the
	// matched rules as rows; calls stored before are backfilled from their bodies by backfillConsole
	// (in Go: a body may be anything that decoded, invalid UTF-8 included), which finds them by
	// indexed = 0 (it also sets their matched_any: one rewrite of each row, not two). Every index is
	// one more B-tree each ingest writes, so those the console can do without (matched yes/no, the
	// overview's counts per rule) are left out.
	`ALTER TABLE calls ADD COLUMN customer_phone TEXT NOT NULL DEFAULT '';
	ALTER TABLE calls ADD COLUMN phone_rev TEXT NOT NULL DEFAULT '';
	ALTER TABLE calls ADD COLUMN duration INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE calls ADD COLUMN matched_any INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE calls ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX calls_unindexed ON calls (id) WHERE indexed = 0;
	CREATE INDEX calls_phone ON calls (phone_rev) WHERE phone_rev != '';
	CREATE INDEX calls_status ON calls (status, received_at);

	CREATE TABLE call_rules (
		call_id     INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
		rule        TEXT    NOT NULL,
		received_at INTEGER NOT NULL,
		PRIMARY KEY (call_id, rule)
	) WITHOUT ROWID;
	INSERT OR IGNORE INTO call_rules (call_id, rule, received_at)
		SELECT c.id, j.value, c.received_at FROM calls c, json_each(c.matched) j;
	CREATE INDEX call_rules_rule ON call_rules (rule, received_at, call_id);
	CREATE TRIGGER calls_rules AFTER INSERT ON calls BEGIN
		INSERT OR IGNORE INTO call_rules (call_id, rule, received_at)
			SELECT NEW.id, j.value, NEW.received_at FROM json_each(NEW.matched) j;
	END;

	CREATE INDEX deliveries_sink ON deliveries (sink, id);
	CREATE INDEX deliveries_rule ON deliveries (rule, id);
	-- Dead letters by sink or rule, newest first: small, and changed only when a delivery dies or is
	-- replayed.
	CREATE INDEX deliveries_dead_sink ON deliveries (sink, id) WHERE state = 'dead';
	CREATE INDEX deliveries_dead_rule ON deliveries (rule, id) WHERE state = 'dead';`,

	// 5: sink states (pause, hold), shared by every process using the file. A sink without a row is
	// active. failing_since is the first retryable failure after the last success (0: none).
	`CREATE TABLE sink_states (
		sink          TEXT    PRIMARY KEY,
		state         TEXT    NOT NULL CHECK (state IN ('active', 'paused', 'held')),
		changed_at    INTEGER NOT NULL DEFAULT 0,
		changed_by    TEXT    NOT NULL DEFAULT '',
		failing_since INTEGER NOT NULL DEFAULT 0,
		last_error    TEXT    NOT NULL DEFAULT '',
		last_error_at INTEGER NOT NULL DEFAULT 0,
		probe_owner   TEXT    NOT NULL DEFAULT '',
		probe_expires INTEGER NOT NULL DEFAULT 0
	);`,

	// 6: notifications: a delivery may have no call, and dead deliveries wait in notify_pending to
	// be notified (notify.go).
	notifyMigration,

	// 7: counts of unfinished deliveries for Stats (counts.go).
	queueCountsMigration,
}

// migrate brings the schema up to date on the writer connection.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this build knows (%d): run a newer switchboard", current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		if err := apply(ctx, db, v, migrations[v-1]); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, version int, stmt string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate to version %d: %w", version, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// Another process may have applied it since we looked; the write lock is ours now.
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&done); err != nil {
		return fmt.Errorf("migrate to version %d: %w", version, err)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("migrate to version %d: %w", version, err)
	}
	if err := bumpSchemaVersion(ctx, tx, stmt); err != nil {
		return fmt.Errorf("migrate to version %d: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		version, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("record migration %d: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate to version %d: %w", version, err)
	}
	return nil
}
