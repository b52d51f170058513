package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
)

// defaultLimit is the page size when a filter's Limit is zero or less.
const defaultLimit = 100

// callCols are the columns scanCall reads.
const callCols = `id, received_at, status, matched, raw`

func scanCall(row pgx.Row) (*store.Call, error) {
	var c store.Call
	var received time.Time
	if err := row.Scan(&c.ID, &received, &c.Status, &c.Matched, &c.Raw); err != nil {
		return nil, err
	}
	c.ReceivedAt = received.UTC()
	if len(c.Matched) == 0 {
		c.Matched = nil
	}
	return &c, nil
}

// GetCall returns one call, or store.ErrNotFound.
func (s *Store) GetCall(ctx context.Context, id int64) (*store.Call, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c, err := scanCall(s.pool.QueryRow(ctx, `SELECT `+callCols+` FROM calls WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, fmt.Errorf("get call %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get call %d: %w", id, err)
	}
	return c, nil
}

// ListCalls returns calls newest first, by (received_at, id) descending, read through the index
// calls_received; f.Before continues after a call of the previous page. A Limit of zero or less
// means 100.
func (s *Store) ListCalls(ctx context.Context, f store.CallFilter) ([]*store.Call, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	q := `SELECT ` + callCols + ` FROM calls ORDER BY received_at DESC, id DESC LIMIT $1`
	args := []any{limit}
	if !f.Before.IsZero() {
		q = `SELECT ` + callCols + ` FROM calls WHERE (received_at, id) < ($2, $3)
			ORDER BY received_at DESC, id DESC LIMIT $1`
		args = append(args, f.Before.ReceivedAt, f.Before.ID)
	}
	return queryAll(ctx, s, "list calls", scanCall, q, args...)
}

// GetDelivery returns one delivery, or store.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id int64) (*store.Delivery, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.id = $1`, id))
	if isNoRows(err) {
		return nil, fmt.Errorf("get delivery %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery %d: %w", id, err)
	}
	return d, nil
}

// ListDeliveries returns deliveries by ascending id; a Limit of zero or less means 100.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var where []string
	args := []any{limit}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.CallID != 0 {
		add(`d.call_id = ?`, f.CallID)
	}
	if f.State != "" {
		add(`d.state = ?`, string(f.State))
	}
	if f.Sink != "" {
		add(`d.sink = ?`, f.Sink)
	}
	if f.AfterID != 0 {
		add(`d.id > ?`, f.AfterID)
	}
	if f.Dead != nil {
		conds, cargs := deadConds(*f.Dead)
		for i, c := range conds {
			if strings.Contains(c, "?") {
				add(c, cargs[0])
				cargs = cargs[1:]
				continue
			}
			where = append(where, conds[i])
		}
	}
	q := `SELECT ` + deliveryCols + ` FROM deliveries d`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY d.id LIMIT $1`
	return queryAll(ctx, s, "list deliveries", deliveryRow, q, args...)
}

// Attempts returns the attempts of one delivery, oldest first; none for an unknown delivery.
func (s *Store) Attempts(ctx context.Context, deliveryID int64) ([]store.Attempt, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT delivery_id, number, started_at, duration_ns, result, status_code, reason, error
		FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("list attempts of delivery %d: %w", deliveryID, err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Attempt, error) {
		var a store.Attempt
		var ns int64
		err := r.Scan(&a.DeliveryID, &a.Number, &a.StartedAt, &ns, &a.Result, &a.StatusCode, &a.Reason, &a.Error)
		a.StartedAt, a.Duration = a.StartedAt.UTC(), time.Duration(ns)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list attempts of delivery %d: %w", deliveryID, err)
	}
	return as, nil
}

// statsSQL counts the queue through the partial index deliveries_unfinished (an index-only scan of
// the unfinished rows, never the delivered ones).
const statsSQL = `SELECT sink,
			count(*) FILTER (WHERE state = 'pending' AND attempts = 0),
			count(*) FILTER (WHERE (state = 'pending' AND attempts > 0) OR state = 'in_flight'),
			count(*) FILTER (WHERE state = 'dead'),
			count(*) FILTER (WHERE state = 'in_flight'),
			min(queued_at) FILTER (WHERE state IN ('pending', 'in_flight'))
		FROM deliveries WHERE state <> 'delivered'
		GROUP BY sink ORDER BY sink`

// Stats returns, by sink name, the queue of every sink that has pending, in-flight or dead
// deliveries. It reads only the partial index of unfinished deliveries.
func (s *Store) Stats(ctx context.Context) ([]store.SinkStats, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, statsSQL)
	if err != nil {
		return nil, fmt.Errorf("read queue stats: %w", err)
	}
	stats, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SinkStats, error) {
		var st store.SinkStats
		var oldest *time.Time
		err := r.Scan(&st.Sink, &st.Pending, &st.Retrying, &st.Dead, &st.InFlight, &oldest)
		st.OldestPending = utc(oldest)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("read queue stats: %w", err)
	}
	return stats, nil
}

// purgeBatch is how many rows one Purge statement deletes, so that no statement holds many locks or
// runs long; SKIP LOCKED lets replicas purging at once share the work instead of waiting. The ids are
// collected into an array so that the delete itself goes through the primary key.
const purgeBatch = 1000

// purgeSteps run in order, each repeated until it deletes fewer than purgeBatch; calls go last,
// once their deliveries are gone. Their arguments are a cutoff and the batch size.
var purgeSteps = []struct {
	what   string
	sql    string
	cutoff func(store.Retention) time.Time
	count  func(*store.Purged) *int
}{
	{"purge delivered deliveries", `DELETE FROM deliveries WHERE id = ANY (ARRAY (
		SELECT id FROM deliveries WHERE state = 'delivered' AND updated_at < $1
		LIMIT $2 FOR UPDATE SKIP LOCKED))`,
		func(r store.Retention) time.Time { return r.Finished }, func(p *store.Purged) *int { return &p.Deliveries }},
	{"purge dead deliveries", `DELETE FROM deliveries WHERE id = ANY (ARRAY (
		SELECT id FROM deliveries WHERE state = 'dead' AND updated_at < $1
		LIMIT $2 FOR UPDATE SKIP LOCKED))`,
		func(r store.Retention) time.Time { return r.Dead }, func(p *store.Purged) *int { return &p.Dead }},
	{"purge calls", `DELETE FROM calls WHERE id = ANY (ARRAY (
		SELECT c.id FROM calls c
		WHERE c.received_at < $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.call_id = c.id)
		LIMIT $2 FOR UPDATE OF c SKIP LOCKED))`,
		func(r store.Retention) time.Time { return r.Finished }, func(p *store.Purged) *int { return &p.Calls }},
}

// Purge deletes delivered deliveries last updated before r.Finished and dead ones last updated
// before r.Dead, with their attempts, then calls received before r.Finished that have no deliveries
// left, in batches; a zero cutoff deletes nothing of its kind. It returns how many of each it
// deleted. A call with a delivery still queued or dead is kept, however old.
func (s *Store) Purge(ctx context.Context, r store.Retention) (store.Purged, error) {
	var p store.Purged
	if err := s.check(); err != nil {
		return p, err
	}
	for _, step := range purgeSteps {
		cutoff := step.cutoff(r)
		if cutoff.IsZero() {
			continue
		}
		for {
			tag, err := s.pool.Exec(ctx, step.sql, cutoff, purgeBatch)
			if err != nil {
				return p, fmt.Errorf("%s: %w", step.what, err)
			}
			*step.count(&p) += int(tag.RowsAffected())
			if tag.RowsAffected() < purgeBatch {
				break
			}
		}
	}
	return p, nil
}

// queryAll runs q and scans every row it returns with scan; what names the read in errors.
func queryAll[T any](ctx context.Context, s *Store, what string, scan func(pgx.Row) (T, error), q string, args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// deliveryRow is scanDelivery of a row without extra columns, for queryAll.
func deliveryRow(row pgx.Row) (*store.Delivery, error) { return scanDelivery(row) }
