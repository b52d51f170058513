package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// claimSQL leases the due rows of one sink, found through the partial index deliveries_due.
const claimSQL = `UPDATE deliveries
	SET state = 'in_flight', lease_owner = ?, lease_expires = ?, due_at = ?, attempts = attempts + 1,
		attempt_number = attempt_number + 1, updated_at = ?
	WHERE id IN (SELECT id FROM deliveries WHERE sink = ? AND due_at IS NOT NULL AND due_at <= ?
		AND NOT EXISTS (SELECT 1 FROM sink_states WHERE sink_states.sink = deliveries.sink AND state != 'active')
		ORDER BY due_at, id LIMIT ?)
	RETURNING ` + deliveryCols

// Claim leases up to limit due deliveries of sink to owner, earliest due first (a pending delivery is
// due at NextAttemptAt, an in-flight one at LeaseExpires), none while the sink is paused or held. It runs as one write transaction, so two
// claims never overlap. A limit below 1 claims nothing.
func (s *Store) Claim(ctx context.Context, sink, owner string, limit int, lease time.Duration, now time.Time) ([]*store.Delivery, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	if owner == "" {
		return nil, errors.New("claim: owner is empty: name the worker")
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim: lease %s must be positive", lease)
	}
	if limit < 1 {
		return nil, nil
	}
	n, exp := nanos(now), nanos(now.Add(lease))
	var out []*store.Delivery
	err := s.relaxed(ctx, func(conn *sql.Conn) error {
		// One statement, in a transaction only to run it prepared (see stmts.go).
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		rows, err := s.stmts(ctx, tx).query(hotClaim, owner, exp, exp, n, sink, n, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, d)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, s.fail("claim", err)
	}
	// RETURNING gives no order: restore the claim order. For pending rows NextAttemptAt is the time
	// they were due; an expired lease keeps the NextAttemptAt of its previous attempt, earlier still.
	slices.SortFunc(out, func(a, b *store.Delivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return compareInt64(a.ID, b.ID)
	})
	return out, nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

const nextDueSQL = `SELECT min(due_at) FROM deliveries WHERE sink = ? AND due_at IS NOT NULL`

// NextDue returns when the next delivery of sink becomes claimable.
func (s *Store) NextDue(ctx context.Context, sink string) (time.Time, bool, error) {
	if s.isClosed() {
		return time.Time{}, false, store.ErrClosed
	}
	var due sql.NullInt64
	err := s.prep.nextDue.QueryRowContext(ctx, sink).Scan(&due)
	if err != nil {
		return time.Time{}, false, s.fail("next due", err)
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, due.Int64).UTC(), true, nil
}

// QueuedSinks returns, sorted, the sinks with pending or in-flight deliveries.
func (s *Store) QueuedSinks(ctx context.Context) ([]string, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	rows, err := s.read.QueryContext(ctx, store.QueuedSinksSQL)
	if err != nil {
		return nil, s.fail("queued sinks", err)
	}
	defer rows.Close()
	var sinks []string
	for rows.Next() {
		var sink string
		if err := rows.Scan(&sink); err != nil {
			return nil, s.fail("queued sinks", err)
		}
		sinks = append(sinks, sink)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("queued sinks", err)
	}
	return sinks, nil
}

// Requeue makes the selected deliveries pending and due at now. A DeliveryID that does not exist
// returns store.ErrNotFound; one that is in flight is left alone and counts 0. The last error, reason
// and status are kept for inspection until the next attempt replaces them.
func (s *Store) Requeue(ctx context.Context, sel store.Selector, now time.Time) (int, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	var where string
	var arg []any
	set := 0
	if sel.AllDead {
		set++
		where = `state = 'dead'`
	}
	if sel.CallID != 0 {
		set++
		where, arg = `state = 'dead' AND call_id = ?`, []any{sel.CallID}
	}
	if sel.DeliveryID != 0 {
		set++
		where, arg = `id = ? AND state != 'in_flight'`, []any{sel.DeliveryID}
	}
	if sel.Dead != nil {
		set++
		where, arg = deadWhere(*sel.Dead)
	}
	if set != 1 {
		return 0, errors.New("requeue: choose exactly one of all dead, a call id, a delivery id or a dead filter")
	}
	n := nanos(now)
	sinks, err := s.requeue(ctx, where, arg, n)
	if err != nil {
		return 0, err
	}
	if len(sinks) == 0 && sel.DeliveryID != 0 {
		if _, err := s.GetDelivery(ctx, sel.DeliveryID); err != nil {
			return 0, fmt.Errorf("requeue delivery %d: %w", sel.DeliveryID, err)
		}
	}
	s.hub.Notify(sinks...)
	return len(sinks), nil
}

// requeue updates the rows matching where and records a wakeup per sink for watchers in other
// processes, in one transaction. It returns the sink of each requeued delivery.
func (s *Store) requeue(ctx context.Context, where string, arg []any, n int64) ([]string, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.fail("requeue: begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	rows, err := tx.QueryContext(ctx, `UPDATE deliveries
		SET state = 'pending', attempts = 0, next_attempt_at = ?, due_at = ?, queued_at = ?,
			lease_owner = '', lease_expires = 0, updated_at = ?
		WHERE `+where+` RETURNING sink`, append([]any{n, n, n, n}, arg...)...)
	if err != nil {
		return nil, s.fail("requeue", err)
	}
	var sinks []string
	for rows.Next() {
		var sink string
		if err := rows.Scan(&sink); err != nil {
			rows.Close()
			return nil, s.fail("requeue", err)
		}
		sinks = append(sinks, sink)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, s.fail("requeue", err)
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(sinks)))
	for _, sink := range distinct {
		if _, err := tx.ExecContext(ctx, `INSERT INTO wakeups (sink, at) VALUES (?, ?)`, sink, n); err != nil {
			return nil, s.fail("requeue: record wakeup", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.fail("requeue: commit", err)
	}
	return sinks, nil
}

// relaxed runs fn on the writer connection with synchronous=NORMAL instead of FULL: its commits reach
// the WAL (safe against a crash of the process) but are not fsynced until the next FULL commit or
// checkpoint. Claim and Finish use it: losing one of them to a power cut (not a process crash) can
// only make a delivery be sent again or count an attempt less, which at-least-once delivery already
// allows, and it spares two fsyncs per delivery. Ingest and Requeue keep FULL, and a FULL commit's
// fsync of the WAL also makes every relaxed commit before it durable.
//
// It waits for its turn at the writerGate first, ahead of a waiting Ingest batch (see writerGate).
func (s *Store) relaxed(ctx context.Context, fn func(conn *sql.Conn) error) error {
	if err := s.gate.acquire(ctx, false); err != nil {
		return err
	}
	defer s.gate.release()
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return err
	}
	ferr := fn(conn)
	// Restore FULL even when ctx is done: the connection goes back to the pool for Ingest.
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); err != nil {
		// A connection that may still be relaxed must not serve Ingest: drop it. SQLite refuses
		// the change inside a transaction, as when fn returned on a cancelled context before
		// database/sql's rollback of its transaction ran. The connection that replaces it gets
		// every setting from the DSN (see Open), so none may be set on the writer afterwards
		// (TestRelaxedDropsConnInTx).
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(ferr, err)
	}
	return ferr
}
