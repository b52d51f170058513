package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

const defaultLimit = 100

// deliveryCols are the columns scanDelivery reads, in order.
const deliveryCols = `id, coalesce(call_id, 0), rule, action, sink, message, state, attempts, next_attempt_at,
	received_at, queued_at, lease_owner, lease_expires, last_error, last_reason, last_status, updated_at,
	attempt_number`

type scanner interface{ Scan(dest ...any) error }

func scanDelivery(row scanner) (*store.Delivery, error) {
	var d store.Delivery
	var state string
	var next, received, queued, expires, updated int64
	err := row.Scan(&d.ID, &d.CallID, &d.Rule, &d.Action, &d.Sink, &d.Message, &state, &d.Attempts, &next,
		&received, &queued, &d.LeaseOwner, &expires, &d.LastError, &d.LastReason, &d.LastStatus, &updated,
		&d.AttemptNumber)
	if err != nil {
		return nil, err
	}
	d.State = store.State(state)
	d.NextAttemptAt = fromNanos(next)
	d.ReceivedAt = fromNanos(received)
	d.QueuedAt = fromNanos(queued)
	d.LeaseExpires = fromNanos(expires)
	d.UpdatedAt = fromNanos(updated)
	return &d, nil
}

func scanCall(row scanner) (*store.Call, error) {
	var c store.Call
	var received int64
	var matched string
	if err := row.Scan(&c.ID, &received, &c.Status, &matched, &c.Raw); err != nil {
		return nil, err
	}
	c.ReceivedAt = fromNanos(received)
	if err := json.Unmarshal([]byte(matched), &c.Matched); err != nil {
		return nil, fmt.Errorf("decode matched rules of call %d: %w", c.ID, err)
	}
	return &c, nil
}

// GetCall returns one call, or store.ErrNotFound.
func (s *Store) GetCall(ctx context.Context, id int64) (*store.Call, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	c, err := scanCall(s.read.QueryRowContext(ctx, `SELECT id, received_at, status, matched, raw FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("call %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get call %d", id), err)
	}
	return c, nil
}

// ListCalls returns calls newest first, by (received_at, id) descending, read through the index
// calls_received; f.Before continues after a call of the previous page.
func (s *Store) ListCalls(ctx context.Context, f store.CallFilter) ([]*store.Call, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	q := `SELECT id, received_at, status, matched, raw FROM calls`
	var args []any
	if !f.Before.IsZero() {
		q += ` WHERE (received_at, id) < (?, ?)`
		args = append(args, nanos(f.Before.ReceivedAt), f.Before.ID)
	}
	q += ` ORDER BY received_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.fail("list calls", err)
	}
	defer rows.Close()
	var out []*store.Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, s.fail("list calls", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list calls", err)
	}
	return out, nil
}

// GetDelivery returns one delivery, or store.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id int64) (*store.Delivery, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	d, err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("delivery %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get delivery %d", id), err)
	}
	return d, nil
}

// ListDeliveries returns deliveries by ascending id.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var where []string
	var args []any
	if f.CallID != 0 {
		where, args = append(where, `call_id = ?`), append(args, f.CallID)
	}
	if f.State != "" {
		where, args = append(where, `state = ?`), append(args, string(f.State))
	}
	if f.Sink != "" {
		where, args = append(where, `sink = ?`), append(args, f.Sink)
	}
	if f.AfterID > 0 {
		where, args = append(where, `id > ?`), append(args, f.AfterID)
	}
	if f.Dead != nil {
		w, a := deadWhere(*f.Dead)
		where, args = append(where, w), append(args, a...)
	}
	q := `SELECT ` + deliveryCols + ` FROM deliveries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.fail("list deliveries", err)
	}
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, s.fail("list deliveries", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list deliveries", err)
	}
	return out, nil
}

// Attempts returns the attempts of one delivery in the order they were recorded; none (and no error)
// for a delivery that does not exist or was never attempted.
func (s *Store) Attempts(ctx context.Context, deliveryID int64) ([]store.Attempt, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	rows, err := s.read.QueryContext(ctx, `SELECT delivery_id, number, started_at, duration, result, status_code,
		reason, error FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, s.fail("list attempts", err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		var a store.Attempt
		var started, dur int64
		if err := rows.Scan(&a.DeliveryID, &a.Number, &started, &dur, &a.Result, &a.StatusCode, &a.Reason, &a.Error); err != nil {
			return nil, s.fail("list attempts", err)
		}
		a.StartedAt = fromNanos(started)
		a.Duration = time.Duration(dur)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list attempts", err)
	}
	return out, nil
}

// Stats returns, sorted by sink, the queue of every sink with pending, in-flight or dead deliveries.
// It reads the counts kept in queue_counts (see queueCountsMigration), never the deliveries one by one.
func (s *Store) Stats(ctx context.Context) ([]store.SinkStats, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	rows, err := s.read.QueryContext(ctx, statsSQL)
	if err != nil {
		return nil, s.fail("queue stats", err)
	}
	defer rows.Close()
	var out []store.SinkStats
	for rows.Next() {
		var sink, state string
		var attempted bool
		var count int
		var oldest int64
		if err := rows.Scan(&sink, &state, &attempted, &count, &oldest); err != nil {
			return nil, s.fail("queue stats", err)
		}
		if len(out) == 0 || out[len(out)-1].Sink != sink {
			out = append(out, store.SinkStats{Sink: sink})
		}
		st := &out[len(out)-1]
		switch store.State(state) {
		case store.Dead:
			st.Dead += count
			continue
		case store.Pending:
			if attempted {
				st.Retrying += count
			} else {
				st.Pending += count
			}
		case store.InFlight:
			st.Retrying += count
			st.InFlight += count
		}
		if t := fromNanos(oldest); !t.IsZero() && (st.OldestPending.IsZero() || t.Before(st.OldestPending)) {
			st.OldestPending = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("queue stats", err)
	}
	return out, nil
}
