package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

var _ store.Console = (*Store)(nil)

// backfillBatch is how many calls one backfill transaction indexes.
const backfillBatch = 500

// backfillConsole fills the console's columns of the calls stored before migration 2, from their
// bodies, a batch per transaction. Calls stored since are indexed at ingest, so after the first run
// this reads one empty partial index.
func backfillConsole(ctx context.Context, db *sql.DB) error {
	for {
		n, err := backfillOnce(ctx, db)
		if err != nil {
			return fmt.Errorf("index stored calls for the console: %w", err)
		}
		if n < backfillBatch {
			return nil
		}
	}
}

func backfillOnce(ctx context.Context, db *sql.DB) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	rows, err := tx.QueryContext(ctx, `SELECT id, raw FROM calls WHERE indexed = 0 ORDER BY id LIMIT ?`, backfillBatch)
	if err != nil {
		return 0, err
	}
	type item struct {
		id int64
		f  store.ConsoleFields
	}
	var items []item
	for rows.Next() {
		var c store.Call
		if err := rows.Scan(&c.ID, &c.Raw); err != nil {
			rows.Close()
			return 0, err
		}
		items = append(items, item{c.ID, store.FieldsOf(&c)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, it := range items {
		if _, err := tx.ExecContext(ctx, `UPDATE calls SET customer_phone = ?, phone_rev = ?, duration = ?,
			matched_any = (matched != '[]'), indexed = 1 WHERE id = ?`,
			it.f.CustomerPhone, it.f.PhoneDigits, it.f.Duration, it.id); err != nil {
			return 0, err
		}
	}
	return len(items), tx.Commit()
}

// consoleLimit is the page size of SearchCalls when the query gives none.
const consoleLimit = 50

// SearchCalls returns the calls matching q, newest received first.
func (s *Store) SearchCalls(ctx context.Context, q store.CallQuery) ([]*store.CallSummary, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	query, args, ok := callSearchSQL(q)
	if !ok {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail("search calls", err)
	}
	defer rows.Close()
	var out []*store.CallSummary
	byID := map[int64]*store.CallSummary{}
	for rows.Next() {
		var c store.CallSummary
		var rec int64
		var matched string
		if err := rows.Scan(&c.ID, &rec, &c.Status, &matched, &c.CustomerPhone, &c.Duration); err != nil {
			return nil, s.fail("search calls", err)
		}
		c.ReceivedAt = fromNanos(rec)
		if err := json.Unmarshal([]byte(matched), &c.Matched); err != nil {
			return nil, s.fail("search calls", fmt.Errorf("decode matched rules of call %d: %w", c.ID, err))
		}
		c.Deliveries = map[store.State]int{}
		out = append(out, &c)
		byID[c.ID] = &c
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("search calls", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	marks := strings.Repeat(",?", len(out))[1:]
	ids := make([]any, len(out))
	for i, c := range out {
		ids[i] = c.ID
	}
	drows, err := s.read.QueryContext(ctx, `SELECT call_id, state, count(*) FROM deliveries WHERE call_id IN (`+marks+`) GROUP BY call_id, state`, ids...)
	if err != nil {
		return nil, s.fail("search calls: count deliveries", err)
	}
	defer drows.Close()
	for drows.Next() {
		var id int64
		var state string
		var n int
		if err := drows.Scan(&id, &state, &n); err != nil {
			return nil, s.fail("search calls: count deliveries", err)
		}
		byID[id].Deliveries[store.State(state)] = n
	}
	if err := drows.Err(); err != nil {
		return nil, s.fail("search calls: count deliveries", err)
	}
	return out, nil
}

// callSearchSQL builds SearchCalls' query; ok is false when q can match nothing (a search term that is
// neither a call id nor phone digits).
func callSearchSQL(q store.CallQuery) (query string, args []any, ok bool) {
	limit := q.Limit
	if limit <= 0 {
		limit = consoleLimit
	}
	// With a rule, the rows of that rule come first from their index, already in order.
	from, t := `calls c`, `c`
	var where []string
	if q.Rule != "" {
		from, t = `call_rules r JOIN calls c ON c.id = r.call_id`, `r`
		where, args = append(where, `r.rule = ?`), append(args, q.Rule)
	}
	received, id := t+`.received_at`, `c.id`
	if q.Rule != "" {
		id = `r.call_id`
	}
	if q.Q != "" {
		digits := store.QueryDigits(q.Q)
		switch {
		case digits == "":
			return "", nil, false
		case len(digits) >= 3:
			rev := store.ReverseDigits(digits)
			// phone_rev != '' lets SQLite use the partial index calls_phone.
			where = append(where, `(c.id = ? OR (c.phone_rev >= ? AND c.phone_rev < ? AND c.phone_rev != ''))`)
			args = append(args, idOf(digits), rev, store.DigitsUpperBound(rev))
		default:
			where, args = append(where, `c.id = ?`), append(args, idOf(digits))
		}
	}
	if q.Status != "" {
		where, args = append(where, `c.status = ?`), append(args, q.Status)
	}
	switch q.Matched {
	case store.MatchedYes:
		where = append(where, `c.matched_any = 1`)
	case store.MatchedNo:
		where = append(where, `c.matched_any = 0`)
	}
	if !q.From.IsZero() {
		where, args = append(where, received+` >= ?`), append(args, nanos(q.From))
	}
	if !q.To.IsZero() {
		where, args = append(where, received+` < ?`), append(args, nanos(q.To))
	}
	if !q.BeforeTime.IsZero() {
		where = append(where, `(`+received+`, `+id+`) < (?, ?)`)
		args = append(args, nanos(q.BeforeTime), q.BeforeID)
	}
	query = `SELECT c.id, c.received_at, c.status, c.matched, c.customer_phone, c.duration FROM ` + from
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY ` + received + ` DESC, ` + id + ` DESC LIMIT ?`
	args = append(args, limit)
	return query, args, true
}

// idOf parses a digit string as a call id; one too long to be an id matches none.
func idOf(digits string) int64 {
	var n int64
	for i := 0; i < len(digits); i++ {
		if n > (1<<62)/10 {
			return -1
		}
		n = n*10 + int64(digits[i]-'0')
	}
	return n
}

// deliveryWhere turns q into a WHERE clause (with its leading keyword, or empty) and its arguments.
func deliveryWhere(q store.DeliveryQuery, paging bool) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if q.CallID != 0 {
		add(`call_id = ?`, q.CallID)
	}
	if q.State != "" {
		add(`state = ?`, string(q.State))
		if q.State != store.Delivered {
			// Lets SQLite use the partial index deliveries_unfinished (sink, state, ...).
			where = append(where, `state != 'delivered'`)
		}
	}
	if q.Sink != "" {
		add(`sink = ?`, q.Sink)
	}
	if q.Rule != "" {
		add(`rule = ?`, q.Rule)
	}
	if q.Reason != "" {
		add(`last_reason = ?`, q.Reason)
	}
	if !q.From.IsZero() {
		add(`received_at >= ?`, nanos(q.From))
	}
	if !q.To.IsZero() {
		add(`received_at < ?`, nanos(q.To))
	}
	if paging && q.BeforeID > 0 {
		add(`id < ?`, q.BeforeID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, ` AND `), args
}

// SearchDeliveries returns the deliveries matching q by descending id.
func (s *Store) SearchDeliveries(ctx context.Context, q store.DeliveryQuery) ([]*store.Delivery, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	where, args := deliveryWhere(q, true)
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries`+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, s.fail("search deliveries", err)
	}
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, s.fail("search deliveries", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("search deliveries", err)
	}
	return out, nil
}

// CountDeliveries counts the deliveries matching q.
func (s *Store) CountDeliveries(ctx context.Context, q store.DeliveryQuery) (int, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	where, args := deliveryWhere(q, false)
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`+where, args...).Scan(&n); err != nil {
		return 0, s.fail("count deliveries", err)
	}
	return n, nil
}

// Overview summarises the 24 hours from since.
func (s *Store) Overview(ctx context.Context, since time.Time) (*store.Overview, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	o := &store.Overview{Since: since, CallsPerHour: make([]int, 24), RuleMatches: map[string]int{}, SinkStates: map[string]map[store.State]int{}}
	lo, hi := nanos(since), nanos(since.Add(24*time.Hour))
	fail := func(err error) (*store.Overview, error) { return nil, s.fail("overview", err) }
	// These read indexes only (calls_received and the primary key of call_rules), never a call's row:
	// ingest pays for no index that serves only the overview.
	err := s.each(ctx, `SELECT (received_at - ?) / 3600000000000, count(*) FROM calls
		WHERE received_at >= ? AND received_at < ? GROUP BY 1`, []any{lo, lo, hi}, func(r *sql.Rows) error {
		var h, n int
		if err := r.Scan(&h, &n); err != nil {
			return err
		}
		if h >= 0 && h < 24 {
			o.CallsPerHour[h] = n
		}
		o.Calls += n
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM calls c WHERE c.received_at >= ? AND c.received_at < ?
		AND NOT EXISTS (SELECT 1 FROM call_rules r WHERE r.call_id = c.id)`, lo, hi).Scan(&o.Unmatched); err != nil {
		return fail(err)
	}
	err = s.each(ctx, `SELECT r.rule, count(*) FROM calls c JOIN call_rules r ON r.call_id = c.id
		WHERE c.received_at >= ? AND c.received_at < ? GROUP BY r.rule`,
		[]any{lo, hi}, func(r *sql.Rows) error {
			var rule string
			var n int
			if err := r.Scan(&rule, &n); err != nil {
				return err
			}
			o.RuleMatches[rule] = n
			return nil
		})
	if err != nil {
		return fail(err)
	}
	err = s.each(ctx, `SELECT d.sink, d.state, count(*) FROM calls c JOIN deliveries d ON d.call_id = c.id
		WHERE c.received_at >= ? AND c.received_at < ? GROUP BY d.sink, d.state`, []any{lo, hi}, func(r *sql.Rows) error {
		var sink, state string
		var n int
		if err := r.Scan(&sink, &state, &n); err != nil {
			return err
		}
		if o.SinkStates[sink] == nil {
			o.SinkStates[sink] = map[store.State]int{}
		}
		o.SinkStates[sink][store.State(state)] = n
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE state = 'dead'`).Scan(&o.Dead); err != nil {
		return fail(err)
	}
	err = s.each(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE state = 'dead' ORDER BY id DESC LIMIT 5`, nil, func(r *sql.Rows) error {
		d, err := scanDelivery(r)
		if err != nil {
			return err
		}
		o.NewestDead = append(o.NewestDead, d)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return o, nil
}

// each runs query on the read pool and calls fn for every row.
func (s *Store) each(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
