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

	// 4: notifications: a delivery may have no call, and dead deliveries wait in notify_pending to
	// be notified (notify.go).
	notifyMigration,
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
