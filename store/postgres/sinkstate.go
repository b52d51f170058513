package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
)

const sinkStateCols = `sink, state, changed_at, changed_by, failing_since, last_error, last_error_at,
	probe_owner, probe_expires`

func scanSinkStatus(row pgx.Row) (store.SinkStatus, error) {
	var st store.SinkStatus
	var state string
	var changed, failing, lastAt, probe *time.Time
	if err := row.Scan(&st.Sink, &state, &changed, &st.ChangedBy, &failing, &st.LastError, &lastAt,
		&st.ProbeOwner, &probe); err != nil {
		return st, err
	}
	st.State = store.SinkState(state)
	st.ChangedAt, st.FailingSince, st.LastErrorAt, st.ProbeExpires = utc(changed), utc(failing), utc(lastAt), utc(probe)
	return st, nil
}

// orNull is t, or NULL when t is zero.
func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SinkStatuses returns the stored state of every sink that has one, sorted by name.
func (s *Store) SinkStatuses(ctx context.Context) ([]store.SinkStatus, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return queryAll(ctx, s, "read sink states", scanSinkStatus, `SELECT `+sinkStateCols+` FROM sink_states ORDER BY sink`)
}

// changeSink reads sink's state under a row lock (creating the row when missing), applies fn and
// writes the result in one transaction, so that replicas change a sink one at a time and exactly one
// of them makes each transition. A transition to active restarts the sink's pending deliveries and
// wakes every replica. A large backlog is restarted ahead of that transaction, in batches (see
// restartAhead).
func (s *Store) changeSink(ctx context.Context, sink string, now time.Time, fn func(store.SinkStatus) store.SinkStatus) (store.SinkChange, error) {
	if err := s.check(); err != nil {
		return store.SinkChange{}, err
	}
	if err := s.restartAhead(ctx, sink, now, fn); err != nil {
		return store.SinkChange{}, fmt.Errorf("change state of sink %q: restart its deliveries: %w", sink, err)
	}
	var ch store.SinkChange
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sink_states (sink, state) VALUES ($1, 'active')
			ON CONFLICT (sink) DO NOTHING`, sink); err != nil {
			return err
		}
		cur, err := scanSinkStatus(tx.QueryRow(ctx, `SELECT `+sinkStateCols+` FROM sink_states WHERE sink = $1 FOR UPDATE`, sink))
		if err != nil {
			return err
		}
		next := fn(cur)
		if _, err := tx.Exec(ctx, `UPDATE sink_states SET state = $2, changed_at = $3, changed_by = $4,
			failing_since = $5, last_error = $6, last_error_at = $7, probe_owner = $8, probe_expires = $9
			WHERE sink = $1`, sink, string(next.State), orNull(next.ChangedAt), next.ChangedBy,
			orNull(next.FailingSince), next.LastError, orNull(next.LastErrorAt), next.ProbeOwner,
			orNull(next.ProbeExpires)); err != nil {
			return err
		}
		if store.Restarts(cur, next) {
			// What restartAhead left: deliveries that became pending since its last batch.
			if _, err := restartPending(ctx, tx, sink, now, -1); err != nil {
				return err
			}
			if err := notify(ctx, tx, map[string]bool{sink: true}); err != nil {
				return err
			}
		}
		ch = store.Change(cur, next)
		return nil
	})
	if err != nil {
		return store.SinkChange{}, fmt.Errorf("change state of sink %q: %w", sink, err)
	}
	return ch, nil
}

// defaultRestartBatch is how many pending deliveries one transaction of restartAhead restarts.
const defaultRestartBatch = 5000

// defaultRestartBatches bounds the transactions of one restartAhead (5 million deliveries): a safety
// net only (see restartAhead for why a resume ends well before it); past it, changeSink's own
// transaction restarts the rest.
const defaultRestartBatches = 1000

// Restarting a pending delivery makes it due now and restarts its max_age clock (queued now). The
// deliveries not yet restarted at now are found through the partial index deliveries_due, whose
// (sink, due_at) range holds the restarted ones together at due_at = now: those before it and those
// after it are what is left. A pending delivery already due exactly at now keeps its queued_at.
// Of those after it, one queued at or after now is left alone too: another resume (on this replica
// or another) restarted it at a later time, or it was ingested after now, so its max_age clock
// already started after now. Deliveries thus only ever move forward in time: concurrent resumes at
// different times cannot move each other's deliveries back and forth, and each of them runs out of
// deliveries to restart. A pending delivery is never queued after it is due, so those before now
// need no such test. A NULL limit is no limit. The order makes PostgreSQL walk that range of the
// index (the sink's pending rows through deliveries_unfinished would also match the ones already
// restarted).
const (
	restartBeforeSQL = `UPDATE deliveries SET next_attempt_at = $2, due_at = $2, queued_at = $2, updated_at = $2
		WHERE id IN (SELECT id FROM deliveries WHERE sink = $1 AND due_at < $2 AND state = 'pending'
			ORDER BY due_at, id LIMIT $3)`
	restartAfterSQL = `UPDATE deliveries SET next_attempt_at = $2, due_at = $2, queued_at = $2, updated_at = $2
		WHERE id IN (SELECT id FROM deliveries WHERE sink = $1 AND due_at > $2 AND state = 'pending'
			AND queued_at < $2 ORDER BY due_at, id LIMIT $3)`
)

// restartPending restarts up to limit (all when limit < 0) pending deliveries of sink at now, in
// tx, and returns how many it restarted.
func restartPending(ctx context.Context, tx pgx.Tx, sink string, now time.Time, limit int) (int, error) {
	total := 0
	for _, q := range []string{restartBeforeSQL, restartAfterSQL} {
		var left *int
		if limit >= 0 {
			n := limit - total
			left = &n
		}
		tag, err := tx.Exec(ctx, q, sink, now, left)
		if err != nil {
			return total, err
		}
		total += int(tag.RowsAffected())
		if limit >= 0 && total >= limit {
			break
		}
	}
	return total, nil
}

// restartAhead restarts the pending deliveries of sink, when fn makes it active again, in
// transactions of s.restartBatch deliveries each, before changeSink's own transaction makes it
// active, so that no transaction rewrites a whole backlog (locking every row of it until it
// commits). The sink stays paused or held meanwhile, so no delivery is claimed half restarted; each
// batch checks that under the sink's row lock, and stops once the sink is active or a batch finds
// fewer than a batch left. That end comes whatever other resumes of the sink do at the same time,
// here or on other replicas: a delivery restarted at a later time is not restarted again (see
// restartAfterSQL), so each delivery is restarted at most once by each resume. s.restartBatches
// bounds the batches all the same. changeSink then restarts, with the state change, what became
// pending since. A crash in between leaves the sink paused or held with part of its backlog
// restarted early, which changes nothing a paused or held sink does; the next resume restarts the
// rest.
func (s *Store) restartAhead(ctx context.Context, sink string, now time.Time, fn func(store.SinkStatus) store.SinkStatus) error {
	restarts := func(q pgx.Row) (bool, error) {
		cur, err := scanSinkStatus(q)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil // active: nothing to restart
		}
		if err != nil {
			return false, err
		}
		return store.Restarts(cur, fn(cur)), nil
	}
	const read = `SELECT ` + sinkStateCols + ` FROM sink_states WHERE sink = $1`
	// A cheap look first: most state changes (failures, successes of an active sink) restart nothing.
	if ok, err := restarts(s.pool.QueryRow(ctx, read, sink)); err != nil || !ok {
		return err
	}
	for range s.restartBatches {
		done := false
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			ok, err := restarts(tx.QueryRow(ctx, read+` FOR UPDATE`, sink))
			if err != nil || !ok {
				done = true
				return err
			}
			k, err := restartPending(ctx, tx, sink, now, s.restartBatch)
			done = k < s.restartBatch
			return err
		})
		if err != nil || done {
			return err
		}
	}
	return nil // the safety net: changeSink's own transaction restarts the rest
}

// ClaimProbe claims a held sink's probe delivery; see store.SinkStateStore. The probe lease is taken
// by a conditional update, so one replica at a time probes.
func (s *Store) ClaimProbe(ctx context.Context, sink, owner string, every, lease time.Duration, now time.Time) (*store.Delivery, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if owner == "" {
		return nil, errors.New("claim probe: owner is empty: name the worker")
	}
	var d *store.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sink_states SET probe_owner = $2, probe_expires = $3
			WHERE sink = $1 AND state = 'held' AND (probe_expires IS NULL OR probe_expires <= $4)`,
			sink, owner, now.Add(every), now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		exp := now.Add(lease)
		d, err = scanDelivery(tx.QueryRow(ctx, `UPDATE deliveries d
			SET state = 'in_flight', lease_owner = $2, lease_expires = $3, due_at = $3,
				attempt_number = d.attempt_number + 1, updated_at = $4
			WHERE d.id = (SELECT id FROM deliveries WHERE sink = $1 AND due_at IS NOT NULL
				AND (state = 'pending' OR due_at <= $4) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING `+deliveryCols, sink, owner, exp, now))
		if errors.Is(err, pgx.ErrNoRows) {
			d, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim probe of sink %q: %w", sink, err)
	}
	return d, nil
}
