package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

const sinkStateCols = `sink, state, changed_at, changed_by, failing_since, last_error, last_error_at,
	probe_owner, probe_expires`

func scanSinkStatus(row scanner) (store.SinkStatus, error) {
	var st store.SinkStatus
	var state string
	var changed, failing, lastAt, probe int64
	if err := row.Scan(&st.Sink, &state, &changed, &st.ChangedBy, &failing, &st.LastError, &lastAt,
		&st.ProbeOwner, &probe); err != nil {
		return st, err
	}
	st.State = store.SinkState(state)
	st.ChangedAt, st.FailingSince, st.LastErrorAt, st.ProbeExpires = fromNanos(changed), fromNanos(failing), fromNanos(lastAt), fromNanos(probe)
	return st, nil
}

// SinkStatuses returns the stored state of every sink that has one, sorted by name.
func (s *Store) SinkStatuses(ctx context.Context) ([]store.SinkStatus, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+sinkStateCols+` FROM sink_states ORDER BY sink`)
	if err != nil {
		return nil, s.fail("read sink states", err)
	}
	defer rows.Close()
	var out []store.SinkStatus
	for rows.Next() {
		st, err := scanSinkStatus(rows)
		if err != nil {
			return nil, s.fail("read sink states", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("read sink states", err)
	}
	return out, nil
}

// changeSink reads sink's state, applies fn and writes the result, in one write transaction; a
// transition to active restarts the sink's pending deliveries and records a wakeup. A large backlog
// is restarted ahead of that transaction, in batches (see restartAhead).
func (s *Store) changeSink(ctx context.Context, sink string, now time.Time, fn func(store.SinkStatus) store.SinkStatus) (store.SinkChange, error) {
	if s.isClosed() {
		return store.SinkChange{}, store.ErrClosed
	}
	if err := s.restartAhead(ctx, sink, now, fn); err != nil {
		return store.SinkChange{}, s.fail(fmt.Sprintf("change state of sink %q: restart its deliveries", sink), err)
	}
	var ch store.SinkChange
	var restarted bool
	err := s.relaxed(ctx, func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		cur, err := scanSinkStatus(tx.QueryRowContext(ctx, `SELECT `+sinkStateCols+` FROM sink_states WHERE sink = ?`, sink))
		if errors.Is(err, sql.ErrNoRows) {
			cur, err = store.SinkStatus{Sink: sink, State: store.SinkActive}, nil
		}
		if err != nil {
			return err
		}
		next := fn(cur)
		if _, err := tx.ExecContext(ctx, `INSERT INTO sink_states (`+sinkStateCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (sink) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at,
				changed_by = excluded.changed_by, failing_since = excluded.failing_since,
				last_error = excluded.last_error, last_error_at = excluded.last_error_at,
				probe_owner = excluded.probe_owner, probe_expires = excluded.probe_expires`,
			sink, string(next.State), nanos(next.ChangedAt), next.ChangedBy, nanos(next.FailingSince),
			next.LastError, nanos(next.LastErrorAt), next.ProbeOwner, nanos(next.ProbeExpires)); err != nil {
			return err
		}
		if store.Restarts(cur, next) {
			n := nanos(now)
			// What restartAhead left: deliveries that became pending since its last batch.
			if _, err := restartPending(ctx, tx, sink, n, -1); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO wakeups (sink, at) VALUES (?, ?)`, sink, n); err != nil {
				return err
			}
			restarted = true
		}
		ch = store.Change(cur, next)
		return tx.Commit()
	})
	if err != nil {
		return store.SinkChange{}, s.fail(fmt.Sprintf("change state of sink %q", sink), err)
	}
	if restarted {
		s.hub.Notify(sink)
	}
	return ch, nil
}

// defaultRestartBatch is how many pending deliveries one transaction of restartAhead restarts: a few
// tens of milliseconds of the writer, and a bounded number of dirty pages in memory.
const defaultRestartBatch = 5000

// defaultRestartBatches bounds the transactions of one restartAhead: 1 000 batches of 5 000 restart
// five million deliveries, five times the largest backlog measured (docs/benchmarks.md). It is a
// safety net only (see restartAhead for why a resume ends well before it); past it, changeSink's own
// transaction restarts the rest.
const defaultRestartBatches = 1000

// Restarting a pending delivery makes it due now and restarts its max_age clock (queued now). The
// deliveries not yet restarted at now are found through the partial index deliveries_due, whose
// (sink, due_at) range holds the restarted ones together at due_at = now: those before it and those
// after it are what is left. A pending delivery already due exactly at now keeps its queued_at.
//
// Of those after it, one queued at or after now is left alone too: another resume restarted it at
// a later time (or it was ingested after now), so its max_age clock already started after now.
// Deliveries thus only ever move forward in time: two resumes at different times (a double click,
// the console and the CLI at once, a probe's success while an operator resumes) cannot move each
// other's deliveries back and forth, and each of them runs out of deliveries to restart. A pending
// delivery is never queued after it is due, so those before now need no such test.
const (
	restartBeforeSQL = `UPDATE deliveries SET next_attempt_at = ?, due_at = ?, queued_at = ?, updated_at = ?
		WHERE id IN (SELECT id FROM deliveries WHERE sink = ? AND due_at IS NOT NULL AND due_at < ?
			AND state = 'pending' LIMIT ?)`
	restartAfterSQL = `UPDATE deliveries SET next_attempt_at = ?, due_at = ?, queued_at = ?, updated_at = ?
		WHERE id IN (SELECT id FROM deliveries WHERE sink = ? AND due_at IS NOT NULL AND due_at > ?
			AND state = 'pending' AND queued_at < ? LIMIT ?)`
)

// restartPending restarts up to limit (all when limit < 0) pending deliveries of sink at n, in tx,
// and returns how many it restarted.
func restartPending(ctx context.Context, tx *sql.Tx, sink string, n int64, limit int) (int, error) {
	total := 0
	for _, q := range []string{restartBeforeSQL, restartAfterSQL} {
		left := -1
		if limit >= 0 {
			left = limit - total
		}
		args := []any{n, n, n, n, sink, n, left}
		if q == restartAfterSQL {
			args = []any{n, n, n, n, sink, n, n, left}
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return total, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(k)
		if limit >= 0 && total >= limit {
			break
		}
	}
	return total, nil
}

// restartAhead restarts the pending deliveries of sink, when fn makes it active again, in
// transactions of s.restartBatch deliveries each, before changeSink's own transaction makes it active:
// one statement over a large backlog held the single writer for many seconds (ingest waited) and
// kept every changed page in memory until it committed. The sink stays paused or held meanwhile, so
// no delivery is claimed half restarted; each batch checks that in its own transaction, and stops
// once the sink is active (resumed by another caller) or a batch finds fewer than a batch left.
// That end comes whatever other resumes of the sink do at the same time: a delivery restarted at a
// later time is not restarted again (see restartAfterSQL), so each delivery is restarted at most
// once by each resume. s.restartBatches bounds the batches all the same.
// changeSink then restarts, with the state change, what became pending since. A crash in between
// leaves the sink paused or held with part of its backlog restarted early, which changes nothing a
// paused or held sink does (it is not claimed; a probe takes the oldest pending delivery whatever
// its due time); the next resume restarts the rest.
func (s *Store) restartAhead(ctx context.Context, sink string, now time.Time, fn func(store.SinkStatus) store.SinkStatus) error {
	restarts := func(cur store.SinkStatus, err error) (bool, error) {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // active: nothing to restart
		}
		if err != nil {
			return false, err
		}
		return store.Restarts(cur, fn(cur)), nil
	}
	// A cheap look first: most state changes (failures, successes of an active sink) restart nothing.
	if ok, err := restarts(scanSinkStatus(s.read.QueryRowContext(ctx, `SELECT `+sinkStateCols+` FROM sink_states WHERE sink = ?`, sink))); err != nil || !ok {
		return err
	}
	n := nanos(now)
	for range s.restartBatches {
		done := false
		err := s.relaxed(ctx, func(conn *sql.Conn) error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() //nolint:errcheck // a no-op after Commit
			ok, err := restarts(scanSinkStatus(tx.QueryRowContext(ctx, `SELECT `+sinkStateCols+` FROM sink_states WHERE sink = ?`, sink)))
			if err != nil || !ok {
				done = true
				return err
			}
			k, err := restartPending(ctx, tx, sink, n, s.restartBatch)
			if err != nil {
				return err
			}
			done = k < s.restartBatch
			return tx.Commit()
		})
		if err != nil || done {
			return err
		}
	}
	return nil // the safety net: changeSink's own transaction restarts the rest
}

// ClaimProbe claims a held sink's probe delivery; see store.SinkStateStore.
func (s *Store) ClaimProbe(ctx context.Context, sink, owner string, every, lease time.Duration, now time.Time) (*store.Delivery, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	if owner == "" {
		return nil, errors.New("claim probe: owner is empty: name the worker")
	}
	n := nanos(now)
	var d *store.Delivery
	err := s.relaxed(ctx, func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		res, err := tx.ExecContext(ctx, `UPDATE sink_states SET probe_owner = ?, probe_expires = ?
			WHERE sink = ? AND state = 'held' AND probe_expires <= ?`, owner, nanos(now.Add(every)), sink, n)
		if err != nil {
			return err
		}
		if got, err := res.RowsAffected(); err != nil || got == 0 {
			return err
		}
		exp := nanos(now.Add(lease))
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries
			SET state = 'in_flight', lease_owner = ?, lease_expires = ?, due_at = ?,
				attempt_number = attempt_number + 1, updated_at = ?
			WHERE id = (SELECT id FROM deliveries WHERE sink = ? AND due_at IS NOT NULL
				AND (state = 'pending' OR due_at <= ?) ORDER BY id LIMIT 1)
			RETURNING `+deliveryCols, owner, exp, exp, n, sink, n))
		if errors.Is(err, sql.ErrNoRows) {
			d, err = nil, nil
		}
		if err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, s.fail(fmt.Sprintf("claim probe of sink %q", sink), err)
	}
	return d, nil
}
