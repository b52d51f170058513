package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
)

// deliveryCols are the columns scanDelivery reads, for a table aliased d.
const deliveryCols = `d.id, coalesce(d.call_id, 0), d.rule, d.action, d.sink, d.message, d.state, d.attempts,
	d.next_attempt_at, d.received_at, d.queued_at, d.lease_owner, d.lease_expires,
	d.last_error, d.last_reason, d.last_status, d.updated_at, d.attempt_number`

// scanDelivery reads deliveryCols, followed by extra destinations.
func scanDelivery(row pgx.Row, extra ...any) (*store.Delivery, error) {
	var d store.Delivery
	var state string
	var next, received, queued, updated time.Time
	var expires *time.Time
	dest := append([]any{&d.ID, &d.CallID, &d.Rule, &d.Action, &d.Sink, &d.Message, &state, &d.Attempts,
		&next, &received, &queued, &d.LeaseOwner, &expires,
		&d.LastError, &d.LastReason, &d.LastStatus, &updated, &d.AttemptNumber}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.State = store.State(state)
	d.NextAttemptAt, d.ReceivedAt, d.QueuedAt, d.UpdatedAt = next.UTC(), received.UTC(), queued.UTC(), updated.UTC()
	d.LeaseExpires = utc(expires)
	return &d, nil
}

// claimSQL leases the due rows of one sink, found through the partial index deliveries_due.
const claimSQL = `WITH picked AS (
	SELECT id, due_at FROM deliveries
	WHERE sink = $1 AND due_at <= $2
		AND NOT EXISTS (SELECT 1 FROM sink_states WHERE sink_states.sink = $1 AND state <> 'active')
	ORDER BY due_at, id
	LIMIT $3
	FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET state = 'in_flight', lease_owner = $4, lease_expires = $5, due_at = $5,
	attempts = d.attempts + 1, attempt_number = d.attempt_number + 1, updated_at = $2
FROM picked WHERE d.id = picked.id
RETURNING ` + deliveryCols + `, picked.due_at`

// Claim leases up to limit deliveries of sink that are due at now, the longest due first, none while
// the sink is paused or held. Rows
// another transaction is claiming are skipped (FOR UPDATE SKIP LOCKED), so concurrent claims, on any
// replica, never return the same delivery. A limit of zero or less claims nothing.
func (s *Store) Claim(ctx context.Context, sink, owner string, limit int, lease time.Duration, now time.Time) ([]*store.Delivery, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	expires := now.Add(lease)
	rows, err := s.pool.Query(ctx, claimSQL, sink, now, limit, owner, expires)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of sink %q: %w", sink, err)
	}
	type claimed struct {
		d   *store.Delivery
		due time.Time
	}
	var got []claimed
	for rows.Next() {
		var c claimed
		if c.d, err = scanDelivery(rows, &c.due); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim deliveries of sink %q: %w", sink, err)
		}
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries of sink %q: %w", sink, err)
	}
	slices.SortFunc(got, func(a, b claimed) int {
		return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.d.ID, b.d.ID))
	})
	ds := make([]*store.Delivery, len(got))
	for i, c := range got {
		ds[i] = c.d
	}
	return ds, nil
}

const nextDueSQL = `SELECT min(due_at) FROM deliveries WHERE sink = $1 AND due_at IS NOT NULL`

// NextDue returns the earliest time at which a delivery of sink becomes claimable, and false when
// none is pending or in flight.
func (s *Store) NextDue(ctx context.Context, sink string) (time.Time, bool, error) {
	if err := s.check(); err != nil {
		return time.Time{}, false, err
	}
	var due *time.Time
	if err := s.pool.QueryRow(ctx, nextDueSQL, sink).Scan(&due); err != nil {
		return time.Time{}, false, fmt.Errorf("find next due delivery of sink %q: %w", sink, err)
	}
	return utc(due), due != nil, nil
}

// QueuedSinks returns, sorted, the names of the sinks that have pending or in-flight deliveries.
func (s *Store) QueuedSinks(ctx context.Context) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, store.QueuedSinksSQL)
	if err != nil {
		return nil, fmt.Errorf("list queued sinks: %w", err)
	}
	sinks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list queued sinks: %w", err)
	}
	return sinks, nil
}

// Requeue makes the selected deliveries pending again, due at now, with Attempts reset, QueuedAt set
// to now and their last error kept, and wakes every replica's Watch for their sinks. It returns how
// many it requeued: a delivery selected by id that is in flight is left alone and counts 0. A delivery
// id that does not exist is store.ErrNotFound; a call id without dead deliveries requeues 0.
func (s *Store) Requeue(ctx context.Context, sel store.Selector, now time.Time) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var where string
	var arg int64
	set := 0
	if sel.AllDead {
		where, set = `state = 'dead'`, set+1
	}
	if sel.CallID != 0 {
		where, arg, set = `call_id = $2 AND state = 'dead'`, sel.CallID, set+1
	}
	if sel.DeliveryID != 0 {
		where, arg, set = `id = $2 AND state <> 'in_flight'`, sel.DeliveryID, set+1
	}
	var filterArgs []any
	if sel.Dead != nil {
		where, filterArgs = deadWhere(*sel.Dead, 2)
		set++
	}
	if set != 1 {
		return 0, fmt.Errorf("requeue deliveries: select all dead deliveries, one call, one delivery or a dead filter")
	}
	args := []any{now}
	if arg != 0 {
		args = append(args, arg)
	}
	args = append(args, filterArgs...)
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0,
			next_attempt_at = $1, due_at = $1, queued_at = $1, updated_at = $1,
			lease_owner = '', lease_expires = NULL
		WHERE `+where+` RETURNING sink`, args...)
		if err != nil {
			return err
		}
		sinks, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		n = len(sinks)
		woken := map[string]bool{}
		for _, sink := range sinks {
			woken[sink] = true
		}
		if n == 0 && sel.DeliveryID != 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, arg).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return store.ErrNotFound
			}
		}
		return notify(ctx, tx, woken)
	})
	if err != nil {
		return 0, fmt.Errorf("requeue deliveries: %w", err)
	}
	return n, nil
}
