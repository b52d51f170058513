package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// Ingest stores a call and its deliveries durably, grouped with concurrent calls into one transaction.
// A zero c.ReceivedAt is stored as the time of the commit. New pending deliveries are due at once (at
// ReceivedAt) and their QueuedAt is ReceivedAt. It returns store.ErrDuplicate when the call id is
// already stored (also when the same id is twice in one batch: the first wins), or store.ErrConflict
// when the stored call's content differs.
func (s *Store) Ingest(ctx context.Context, c *store.Call, ds []store.NewDelivery) ([]int64, error) {
	if c == nil {
		return nil, errors.New("ingest: call is missing")
	}
	if c.ID <= 0 {
		return nil, fmt.Errorf("ingest call %d: id must be positive", c.ID)
	}
	for i, d := range ds {
		if d.Sink == "" || d.Rule == "" {
			return nil, fmt.Errorf("ingest call %d: delivery %d: rule and sink are required", c.ID, i)
		}
		if d.Leased() && d.LeaseExpires.IsZero() {
			return nil, fmt.Errorf("ingest call %d: delivery %d: leased to %q without a lease expiry", c.ID, i, d.LeaseOwner)
		}
	}
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	return s.ingest.Ingest(ctx, c, ds)
}

const (
	insertCallSQL = `INSERT INTO calls (id, received_at, status, matched, raw,
		customer_phone, phone_rev, duration, matched_any, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (id) DO NOTHING`
	insertDeliverySQL = `INSERT INTO deliveries (call_id, rule, action, sink, message, state, attempts,
		attempt_number, next_attempt_at, due_at, received_at, queued_at, lease_owner, lease_expires,
		last_error, last_reason, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// commitBatch is the store.CommitFunc: one transaction for the whole batch, one savepoint per call so
// that a failing call fails alone.
func (s *Store) commitBatch(batch []*store.IngestRequest) error {
	ctx := context.Background()
	if err := s.gate.acquire(ctx, true); err != nil {
		return s.fail("ingest: wait for the writer", err)
	}
	defer s.gate.release()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("ingest: begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	st := s.stmts(ctx, tx)

	now := time.Now().UTC()
	var sinks []string
	active := activeSinks{st: st, known: map[string]bool{}}
	for _, r := range batch {
		if _, err := st.exec(hotSavepoint); err != nil {
			return s.fail("ingest: savepoint", err)
		}
		ids, unleased, err := insertOne(ctx, tx, st, r, now, active.is)
		if err != nil {
			if _, rerr := st.exec(hotRollbackTo); rerr != nil {
				return s.fail("ingest: roll back one call", rerr)
			}
			r.Err = err
		} else {
			r.IDs, r.Unleased = ids, unleased
			for i, d := range r.Deliveries {
				if !d.Dead && (!d.Leased() || slices.Contains(unleased, i)) {
					sinks = append(sinks, d.Sink)
				}
			}
		}
		if _, err := st.exec(hotRelease); err != nil {
			return s.fail("ingest: release savepoint", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.fail("ingest: commit", err)
	}
	s.hub.Notify(sinks...)
	return nil
}

// sinkActiveSQL tells whether a sink is active (a sink without a row is).
const sinkActiveSQL = `SELECT NOT EXISTS (SELECT 1 FROM sink_states WHERE sink = ? AND state != 'active')`

// activeSinks reads, once per sink and batch, whether a sink is active: a leased delivery of a sink
// that is not is stored pending (store.NewDelivery.LeaseOwner).
type activeSinks struct {
	st    *txStmts
	known map[string]bool
}

func (a activeSinks) is(sink string) (bool, error) {
	if v, ok := a.known[sink]; ok {
		return v, nil
	}
	var v bool
	if err := a.st.queryRow(hotSinkActive, sink).Scan(&v); err != nil {
		return false, fmt.Errorf("read the state of sink %q: %w", sink, err)
	}
	a.known[sink] = v
	return v, nil
}

// insertOne inserts one call and its deliveries inside the batch's savepoint. It returns their ids
// and the indexes of the leased deliveries stored pending because their sink is not active.
func insertOne(ctx context.Context, tx *sql.Tx, st *txStmts, r *store.IngestRequest, now time.Time, active func(sink string) (bool, error)) (ids []int64, unleased []int, err error) {
	c := r.Call
	received := c.ReceivedAt
	if received.IsZero() {
		received = now
	}
	matched := c.Matched
	if matched == nil {
		matched = []string{}
	}
	mj, err := json.Marshal(matched)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest call %d: encode matched rules: %w", c.ID, err)
	}
	f := store.FieldsOf(c)
	res, err := st.exec(hotInsertCall, c.ID, nanos(received), store.CleanText(c.Status), string(mj), c.Raw,
		store.CleanText(f.CustomerPhone), f.PhoneDigits, f.Duration, len(matched) > 0)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest call %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, nil, fmt.Errorf("ingest call %d: %w", c.ID, err)
	} else if n == 0 {
		return nil, nil, duplicate(ctx, tx, c)
	}
	ids = make([]int64, 0, len(r.Deliveries))
	rn := nanos(received)
	for i, d := range r.Deliveries {
		state, due := store.Pending, sql.NullInt64{Int64: rn, Valid: true}
		attempts, owner, expires := 0, "", int64(0)
		switch {
		case d.Dead:
			state, due = store.Dead, sql.NullInt64{}
		case d.Leased():
			ok, err := active(d.Sink)
			if err != nil {
				return nil, nil, fmt.Errorf("ingest call %d: delivery %d: %w", c.ID, i, err)
			}
			if !ok {
				unleased = append(unleased, i)
				break
			}
			// As Claim leaves a delivery: in flight, due when its lease expires.
			attempts, owner, expires = 1, d.LeaseOwner, nanos(d.LeaseExpires)
			state, due = store.InFlight, sql.NullInt64{Int64: expires, Valid: true}
		}
		res, err := st.exec(hotInsertDelivery, c.ID, d.Rule, d.Action, d.Sink, d.Message, string(state),
			attempts, attempts, rn, due, rn, rn, owner, expires, store.CleanText(d.Error), store.CleanText(d.Reason), rn)
		if err != nil {
			return nil, nil, fmt.Errorf("ingest call %d: delivery %d: %w", c.ID, i, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, nil, fmt.Errorf("ingest call %d: delivery %d: %w", c.ID, i, err)
		}
		if d.Dead {
			if err := recordDeath(st, id, rn); err != nil {
				return nil, nil, fmt.Errorf("ingest call %d: %w", c.ID, err)
			}
		}
		ids = append(ids, id)
	}
	return ids, unleased, nil
}

// duplicate returns store.ErrDuplicate, or store.ErrConflict when the stored call with c's id has
// other content.
func duplicate(ctx context.Context, tx *sql.Tx, c *store.Call) error {
	var raw []byte
	if err := tx.QueryRowContext(ctx, `SELECT raw FROM calls WHERE id = ?`, c.ID).Scan(&raw); err != nil {
		return fmt.Errorf("ingest call %d: read the stored call: %w", c.ID, err)
	}
	if !store.SameContent(raw, c.Raw) {
		return store.ErrConflict
	}
	return store.ErrDuplicate
}
