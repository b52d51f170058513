package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-relay/switchboard/store"
)

var _ store.Console = (*Store)(nil)

// backfillBatch is how many calls one backfill transaction indexes.
const backfillBatch = 500

// backfillConsole fills the console's columns of the calls stored before migration 2, from their
// bodies, a batch per transaction (replicas starting at once skip each other's rows). Calls stored
// since are indexed at ingest, so after the first run this reads one empty partial index.
func backfillConsole(ctx context.Context, pool *pgxpool.Pool) error {
	for {
		n := 0
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id, raw FROM calls WHERE NOT indexed ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, backfillBatch)
			if err != nil {
				return err
			}
			calls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Call, error) {
				var c store.Call
				err := r.Scan(&c.ID, &c.Raw)
				return c, err
			})
			if err != nil {
				return err
			}
			n = len(calls)
			var b pgx.Batch
			for i := range calls {
				f := store.FieldsOf(&calls[i])
				b.Queue(`UPDATE calls SET customer_phone = $1, phone_rev = $2, duration = $3, indexed = true WHERE id = $4`,
					f.CustomerPhone, f.PhoneDigits, f.Duration, calls[i].ID)
				// A replica still running the previous release during a rolling update stores calls
				// without their rule rows: the next start of any replica adds them.
				b.Queue(`INSERT INTO call_rules (call_id, rule, received_at)
					SELECT id, m.rule, received_at FROM calls, unnest(matched) AS m(rule) WHERE id = $1
					ON CONFLICT DO NOTHING`, calls[i].ID)
			}
			return tx.SendBatch(ctx, &b).Close()
		})
		if err != nil {
			return fmt.Errorf("index stored calls for the console: %w", err)
		}
		if n < backfillBatch {
			return nil
		}
	}
}

// consoleLimit is the page size of SearchCalls when the query gives none.
const consoleLimit = 50

// params collects positional arguments.
type params struct{ args []any }

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// SearchCalls returns the calls matching q, newest received first.
func (s *Store) SearchCalls(ctx context.Context, q store.CallQuery) ([]*store.CallSummary, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = consoleLimit
	}
	var p params
	var where []string
	from, received, id := `calls c`, `c.received_at`, `c.id`
	if q.Rule != "" {
		from, received, id = `call_rules r JOIN calls c ON c.id = r.call_id`, `r.received_at`, `r.call_id`
		where = append(where, `r.rule = `+p.add(q.Rule))
	}
	if q.Q != "" {
		digits := store.QueryDigits(q.Q)
		switch {
		case digits == "":
			return nil, nil
		case len(digits) >= 3:
			rev := store.ReverseDigits(digits)
			where = append(where, fmt.Sprintf(`(c.id = %s OR (c.phone_rev >= %s AND c.phone_rev < %s))`,
				p.add(idOf(digits)), p.add(rev), p.add(store.DigitsUpperBound(rev))))
		default:
			where = append(where, `c.id = `+p.add(idOf(digits)))
		}
	}
	if q.Status != "" {
		where = append(where, `c.status = `+p.add(q.Status))
	}
	switch q.Matched {
	case store.MatchedYes:
		where = append(where, `cardinality(c.matched) > 0`)
	case store.MatchedNo:
		where = append(where, `NOT (cardinality(c.matched) > 0)`)
	}
	if !q.From.IsZero() {
		where = append(where, received+` >= `+p.add(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, received+` < `+p.add(q.To))
	}
	if !q.BeforeTime.IsZero() {
		where = append(where, fmt.Sprintf(`(%s, %s) < (%s, %s)`, received, id, p.add(q.BeforeTime), p.add(q.BeforeID)))
	}
	query := `SELECT c.id, c.received_at, c.status, c.matched, c.customer_phone, c.duration FROM ` + from
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += fmt.Sprintf(` ORDER BY %s DESC, %s DESC LIMIT %s`, received, id, p.add(limit))
	rows, err := s.pool.Query(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("search calls: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.CallSummary, error) {
		var c store.CallSummary
		err := r.Scan(&c.ID, &c.ReceivedAt, &c.Status, &c.Matched, &c.CustomerPhone, &c.Duration)
		c.ReceivedAt = c.ReceivedAt.UTC()
		if len(c.Matched) == 0 {
			c.Matched = nil
		}
		c.Deliveries = map[store.State]int{}
		return &c, err
	})
	if err != nil {
		return nil, fmt.Errorf("search calls: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	byID := make(map[int64]*store.CallSummary, len(out))
	for i, c := range out {
		ids[i], byID[c.ID] = c.ID, c
	}
	rows, err = s.pool.Query(ctx, `SELECT call_id, state, count(*) FROM deliveries WHERE call_id = ANY ($1) GROUP BY call_id, state`, ids)
	if err != nil {
		return nil, fmt.Errorf("search calls: count deliveries: %w", err)
	}
	var cid int64
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&cid, &state, &n}, func() error {
		byID[cid].Deliveries[store.State(state)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search calls: count deliveries: %w", err)
	}
	return out, nil
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

// deliveryWhere turns q into a WHERE clause (with its keyword, or empty), adding its arguments to p.
func deliveryWhere(q store.DeliveryQuery, p *params, paging bool) string {
	var where []string
	add := func(cond string, v any) { where = append(where, cond+p.add(v)) }
	if q.CallID != 0 {
		add(`d.call_id = `, q.CallID)
	}
	if q.State != "" {
		add(`d.state = `, string(q.State))
	}
	if q.Sink != "" {
		add(`d.sink = `, q.Sink)
	}
	if q.Rule != "" {
		add(`d.rule = `, q.Rule)
	}
	if q.Reason != "" {
		add(`d.last_reason = `, q.Reason)
	}
	if !q.From.IsZero() {
		add(`d.received_at >= `, q.From)
	}
	if !q.To.IsZero() {
		add(`d.received_at < `, q.To)
	}
	if paging && q.BeforeID > 0 {
		add(`d.id < `, q.BeforeID)
	}
	if len(where) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(where, ` AND `)
}

// SearchDeliveries returns the deliveries matching q by descending id.
func (s *Store) SearchDeliveries(ctx context.Context, q store.DeliveryQuery) ([]*store.Delivery, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var p params
	where := deliveryWhere(q, &p, true)
	return queryAll(ctx, s, "search deliveries", deliveryRow, `SELECT `+deliveryCols+` FROM deliveries d`+where+` ORDER BY d.id DESC LIMIT `+p.add(limit), p.args...)
}

// CountDeliveries counts the deliveries matching q.
func (s *Store) CountDeliveries(ctx context.Context, q store.DeliveryQuery) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var p params
	where := deliveryWhere(q, &p, false)
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries d`+where, p.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count deliveries: %w", err)
	}
	return n, nil
}

// Overview summarises the 24 hours from since.
func (s *Store) Overview(ctx context.Context, since time.Time) (*store.Overview, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	o := &store.Overview{Since: since, CallsPerHour: make([]int, 24), RuleMatches: map[string]int{}, SinkStates: map[string]map[store.State]int{}}
	until := since.Add(24 * time.Hour)
	fail := func(err error) (*store.Overview, error) { return nil, fmt.Errorf("overview: %w", err) }

	rows, err := s.pool.Query(ctx, `SELECT floor(extract(epoch FROM received_at - $1) / 3600)::int, count(*),
			count(*) FILTER (WHERE cardinality(matched) = 0)
		FROM calls WHERE received_at >= $1 AND received_at < $2 GROUP BY 1`, since, until)
	if err != nil {
		return fail(err)
	}
	var h, n, unmatched int
	if _, err := pgx.ForEachRow(rows, []any{&h, &n, &unmatched}, func() error {
		if h >= 0 && h < 24 {
			o.CallsPerHour[h] = n
		}
		o.Calls += n
		o.Unmatched += unmatched
		return nil
	}); err != nil {
		return fail(err)
	}

	rows, err = s.pool.Query(ctx, `SELECT rule, count(*) FROM call_rules WHERE received_at >= $1 AND received_at < $2 GROUP BY rule`, since, until)
	if err != nil {
		return fail(err)
	}
	var rule string
	if _, err := pgx.ForEachRow(rows, []any{&rule, &n}, func() error {
		o.RuleMatches[rule] = n
		return nil
	}); err != nil {
		return fail(err)
	}

	rows, err = s.pool.Query(ctx, `SELECT d.sink, d.state, count(*) FROM calls c JOIN deliveries d ON d.call_id = c.id
		WHERE c.received_at >= $1 AND c.received_at < $2 GROUP BY d.sink, d.state`, since, until)
	if err != nil {
		return fail(err)
	}
	var sink, state string
	if _, err := pgx.ForEachRow(rows, []any{&sink, &state, &n}, func() error {
		if o.SinkStates[sink] == nil {
			o.SinkStates[sink] = map[store.State]int{}
		}
		o.SinkStates[sink][store.State(state)] = n
		return nil
	}); err != nil {
		return fail(err)
	}

	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE state = 'dead'`).Scan(&o.Dead); err != nil {
		return fail(err)
	}
	rows, err = s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.state = 'dead' ORDER BY d.id DESC LIMIT 5`)
	if err != nil {
		return fail(err)
	}
	if o.NewestDead, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Delivery, error) { return scanDelivery(r) }); err != nil {
		return fail(err)
	}
	return o, nil
}
