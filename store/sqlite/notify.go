package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// notifyMigration lets a delivery have no call (a notification: call_id NULL) and creates
// notify_pending, the dead deliveries waiting to be notified (see store's notify.go).
//
// SQLite cannot drop a NOT NULL constraint with ALTER TABLE. Instead of copying the whole deliveries
// table, the migration edits the table's definition in sqlite_schema, the procedure SQLite documents
// for removing a NOT NULL constraint (nothing stored changes); apply then increments schema_version
// (see bumpSchemaVersion) so that every connection reads the new definition.
const notifyMigration = `PRAGMA writable_schema = ON;
	UPDATE sqlite_schema SET sql = replace(sql, 'call_id         INTEGER NOT NULL REFERENCES calls (id)',
		'call_id         INTEGER REFERENCES calls (id)')
	WHERE type = 'table' AND name = 'deliveries';
	PRAGMA writable_schema = OFF;

	CREATE TABLE notify_pending (
		delivery_id INTEGER PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
		died_at     INTEGER NOT NULL
	);
	CREATE INDEX notify_pending_died ON notify_pending (died_at);`

// bumpSchemaVersion increments the schema cookie after a migration that edited sqlite_schema
// directly (it mentions writable_schema), so that SQLite re-reads the schema on every connection,
// this one included.
func bumpSchemaVersion(ctx context.Context, tx *sql.Tx, stmt string) error {
	if !strings.Contains(stmt, "writable_schema") {
		return nil
	}
	var v int64
	if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema_version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA schema_version = %d`, v+1)); err != nil {
		return fmt.Errorf("set schema_version: %w", err)
	}
	return nil
}

// recordDeathSQL records that a delivery died, unless it is a notification (no call): a notification
// that dies is never notified again.
const recordDeathSQL = `INSERT INTO notify_pending (delivery_id, died_at)
	SELECT id, ? FROM deliveries WHERE id = ? AND call_id IS NOT NULL
	ON CONFLICT (delivery_id) DO NOTHING`

// recordDeath is called inside the transaction that made delivery id dead at now (unix nanoseconds).
func recordDeath(st *txStmts, id, now int64) error {
	if _, err := st.exec(hotRecordDeath, now, id); err != nil {
		return fmt.Errorf("record the death of delivery %d for notification: %w", id, err)
	}
	return nil
}

// AddNotification queues n as a pending delivery without a call, due at now.
func (s *Store) AddNotification(ctx context.Context, n store.Notification, now time.Time) (int64, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.fail("add notification: begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	id, err := addNotification(ctx, tx, n, nanos(now))
	if err != nil {
		return 0, s.fail("add notification", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail("add notification: commit", err)
	}
	s.hub.Notify(n.Sink)
	return id, nil
}

func addNotification(ctx context.Context, tx *sql.Tx, n store.Notification, now int64) (int64, error) {
	if n.Kind == "" || n.Sink == "" {
		return 0, fmt.Errorf("a notification needs a kind and a sink, got %q and %q", n.Kind, n.Sink)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (call_id, rule, action, sink, message, state, attempts,
		next_attempt_at, due_at, received_at, queued_at, updated_at)
		VALUES (NULL, ?, 0, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)`,
		store.NotifyRulePrefix+n.Kind, n.Sink, n.Message, now, now, now, now, now)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// OldestDeath returns when the longest-waiting dead delivery not yet notified died.
func (s *Store) OldestDeath(ctx context.Context) (time.Time, bool, error) {
	if s.isClosed() {
		return time.Time{}, false, store.ErrClosed
	}
	var at sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT min(died_at) FROM notify_pending`).Scan(&at); err != nil {
		return time.Time{}, false, s.fail("oldest death", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return fromNanos(at.Int64), true, nil
}

// FlushDead turns the dead deliveries waiting to be notified into one notification. SQLite's write
// transaction is the store-wide lock: two processes on one file never flush at once.
func (s *Store) FlushDead(ctx context.Context, cutoff, now time.Time, render func(store.DeadGroup) (*store.Notification, error)) (int, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.fail("flush dead: begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var waiting int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notify_pending WHERE died_at <= ?`, nanos(cutoff)).Scan(&waiting); err != nil {
		return 0, s.fail("flush dead", err)
	}
	if waiting == 0 {
		return 0, nil
	}
	var g store.DeadGroup
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notify_pending p JOIN deliveries d ON d.id = p.delivery_id
		WHERE d.state = 'dead'`).Scan(&g.Total); err != nil {
		return 0, s.fail("flush dead", err)
	}
	// notify_pending's columns have names of their own, so deliveryCols need no qualifier.
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryCols+` FROM notify_pending p
		JOIN deliveries ON deliveries.id = p.delivery_id WHERE state = 'dead'
		ORDER BY p.died_at, p.delivery_id LIMIT ?`, store.MaxListed)
	if err != nil {
		return 0, s.fail("flush dead", err)
	}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return 0, s.fail("flush dead", err)
		}
		g.Deliveries = append(g.Deliveries, d)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, s.fail("flush dead", err)
	}
	rows.Close()
	var n *store.Notification
	if g.Total > 0 {
		if n, err = render(g); err != nil {
			return 0, err
		}
	}
	if n != nil {
		if _, err := addNotification(ctx, tx, *n, nanos(now)); err != nil {
			return 0, s.fail("flush dead: queue the notification", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM notify_pending`); err != nil {
		return 0, s.fail("flush dead: forget the notified", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail("flush dead: commit", err)
	}
	if n != nil {
		s.hub.Notify(n.Sink)
	}
	return g.Total, nil
}

// deadWhere is the SQL condition (and its arguments) selecting the dead deliveries f matches.
func deadWhere(f store.DeadFilter) (string, []any) {
	where := []string{`state = 'dead'`}
	var args []any
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if f.Sink != "" {
		add(`sink = ?`, f.Sink)
	}
	if f.Rule != "" {
		add(`rule = ?`, f.Rule)
	}
	if f.Reason != "" {
		add(`last_reason = ?`, f.Reason)
	}
	if !f.Since.IsZero() {
		add(`updated_at >= ?`, nanos(f.Since))
	}
	if !f.Until.IsZero() {
		add(`updated_at <= ?`, nanos(f.Until))
	}
	return strings.Join(where, ` AND `), args
}
