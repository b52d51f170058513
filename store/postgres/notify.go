package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
)

// notifyMigration lets a delivery have no call (a notification: call_id NULL), creates
// notify_pending, the dead deliveries waiting to be notified, and notify_flush, the one row a flush
// locks so that one replica at a time turns them into a notification (see store's notify.go).
const notifyMigration = `ALTER TABLE deliveries ALTER COLUMN call_id DROP NOT NULL;

	CREATE TABLE notify_pending (
		delivery_id bigint      PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
		died_at     timestamptz NOT NULL
	);
	CREATE INDEX notify_pending_died ON notify_pending (died_at);

	CREATE TABLE notify_flush (id integer PRIMARY KEY CHECK (id = 1));
	INSERT INTO notify_flush (id) VALUES (1);`

const addNotificationSQL = `INSERT INTO deliveries (call_id, rule, action, sink, message, state, next_attempt_at, due_at,
	received_at, queued_at, updated_at)
	VALUES (NULL, $1, 0, $2, $3, 'pending', $4, $4, $4, $4, $4) RETURNING id`

// AddNotification queues n as a pending delivery without a call, due at now.
func (s *Store) AddNotification(ctx context.Context, n store.Notification, now time.Time) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		id, err = addNotification(ctx, tx, n, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("add notification: %w", err)
	}
	return id, nil
}

func addNotification(ctx context.Context, tx pgx.Tx, n store.Notification, now time.Time) (int64, error) {
	if n.Kind == "" || n.Sink == "" {
		return 0, fmt.Errorf("a notification needs a kind and a sink, got %q and %q", n.Kind, n.Sink)
	}
	var id int64
	if err := tx.QueryRow(ctx, addNotificationSQL, store.NotifyRulePrefix+n.Kind, n.Sink, n.Message, now).Scan(&id); err != nil {
		return 0, err
	}
	return id, notify(ctx, tx, map[string]bool{n.Sink: true})
}

// OldestDeath returns when the longest-waiting dead delivery not yet notified died.
func (s *Store) OldestDeath(ctx context.Context) (time.Time, bool, error) {
	if err := s.check(); err != nil {
		return time.Time{}, false, err
	}
	var at *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(died_at) FROM notify_pending`).Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("oldest death: %w", err)
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return at.UTC(), true, nil
}

// errFlushBusy ends a flush that found another replica flushing.
var errFlushBusy = errors.New("another replica is flushing")

// FlushDead turns the dead deliveries waiting to be notified into one notification. The flush locks
// the one row of notify_flush (skipping when another replica holds it), then takes exactly the rows
// it deletes from notify_pending: a death recorded meanwhile waits for the next flush.
func (s *Store) FlushDead(ctx context.Context, cutoff, now time.Time, render func(store.DeadGroup) (*store.Notification, error)) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	total := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT id FROM notify_flush WHERE id = 1 FOR UPDATE SKIP LOCKED`).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errFlushBusy
			}
			return err
		}
		var due bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notify_pending WHERE died_at <= $1)`, cutoff).Scan(&due); err != nil {
			return err
		}
		if !due {
			return nil
		}
		type death struct {
			id int64
			at time.Time
		}
		rows, err := tx.Query(ctx, `DELETE FROM notify_pending RETURNING delivery_id, died_at`)
		if err != nil {
			return err
		}
		deaths, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (death, error) {
			var d death
			err := r.Scan(&d.id, &d.at)
			return d, err
		})
		if err != nil {
			return err
		}
		ids := make([]int64, len(deaths))
		for i, d := range deaths {
			ids[i] = d.id
		}
		rows, err = tx.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.id = ANY ($1) AND d.state = 'dead'`, ids)
		if err != nil {
			return err
		}
		dead, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Delivery, error) { return scanDelivery(r) })
		if err != nil {
			return err
		}
		if len(dead) == 0 {
			return nil
		}
		died := make(map[int64]time.Time, len(deaths))
		for _, d := range deaths {
			died[d.id] = d.at
		}
		slices.SortFunc(dead, func(a, b *store.Delivery) int {
			if c := died[a.ID].Compare(died[b.ID]); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		g := store.DeadGroup{Deliveries: dead[:min(len(dead), store.MaxListed)], Total: len(dead)}
		n, err := render(g)
		if err != nil {
			return err
		}
		if n != nil {
			if _, err := addNotification(ctx, tx, *n, now); err != nil {
				return fmt.Errorf("queue the notification: %w", err)
			}
		}
		total = g.Total
		return nil
	})
	if errors.Is(err, errFlushBusy) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("flush dead: %w", err)
	}
	return total, nil
}

// deadConds are the conditions, with "?" for their arguments, selecting the dead deliveries f
// matches in a table aliased d.
func deadConds(f store.DeadFilter) ([]string, []any) {
	conds := []string{`d.state = 'dead'`}
	var args []any
	add := func(cond string, arg any) { conds, args = append(conds, cond), append(args, arg) }
	if f.Sink != "" {
		add(`d.sink = ?`, f.Sink)
	}
	if f.Rule != "" {
		add(`d.rule = ?`, f.Rule)
	}
	if f.Reason != "" {
		add(`d.last_reason = ?`, f.Reason)
	}
	if !f.Since.IsZero() {
		add(`d.updated_at >= ?`, f.Since)
	}
	if !f.Until.IsZero() {
		add(`d.updated_at <= ?`, f.Until)
	}
	return conds, args
}

// deadWhere is deadConds as one condition whose placeholders are numbered from $first, for a table
// named deliveries (not aliased).
func deadWhere(f store.DeadFilter, first int) (string, []any) {
	conds, args := deadConds(f)
	n := first
	for i, c := range conds {
		c = strings.ReplaceAll(c, "d.", "")
		if strings.Contains(c, "?") {
			c = strings.Replace(c, "?", "$"+strconv.Itoa(n), 1)
			n++
		}
		conds[i] = c
	}
	return strings.Join(conds, ` AND `), args
}
