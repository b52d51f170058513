package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-relay/switchboard/store"
)

// Finish batching: concurrent Finish calls queue in a store.Batcher and one goroutine per Store sends
// them together, whatever queued while the previous batch ran (up to maxFinishBatch, no extra wait),
// as one transaction in one round trip (a pgx.Batch, which PostgreSQL runs as one implicit
// transaction); a lone call is a single statement, as before batching. A busy queue then costs one transaction per
// batch instead of one per delivery.

// maxFinishBatch is the most Finish calls sent in one round trip.
const maxFinishBatch = 256

// finishReq is one Finish call waiting for its batch.
type finishReq struct {
	id    int64
	owner string
	o     store.Outcome
}

// finishSQL updates one delivery leased to its owner and records its attempt. A delivery that is not
// leased to the owner (or does not exist) changes nothing and affects no row: it never fails the
// statement, so one lost lease cannot abort the batch's transaction.
const finishSQL = `WITH u AS (
	UPDATE deliveries SET state = $3,
		next_attempt_at = CASE WHEN $3 = 'pending' THEN $4 ELSE next_attempt_at END,
		due_at = CASE WHEN $3 = 'pending' THEN $4 END,
		lease_owner = '', lease_expires = NULL,
		last_error = $5, last_reason = $6, last_status = $7, updated_at = $8
	WHERE id = $1 AND state = 'in_flight' AND lease_owner = $2
	RETURNING id, attempt_number, state, call_id
), p AS (
	INSERT INTO notify_pending (delivery_id, died_at)
	SELECT id, $8 FROM u WHERE state = 'dead' AND call_id IS NOT NULL
	ON CONFLICT (delivery_id) DO NOTHING
)
INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ns, result, status_code, reason, error)
SELECT id, attempt_number, $9, $10, $11, $7, $6, $5 FROM u`

// Finish records an attempt and moves a delivery leased to owner to the outcome's state, clearing the
// lease and setting LastError, LastReason and LastStatus from the attempt. A lease that expired is
// still the owner's until another worker claims the delivery. The attempt is numbered with the
// delivery's AttemptNumber (Attempt.Number is ignored); a zero StartedAt is taken as now. The delivery's
// UpdatedAt, from which Purge counts, is this replica's clock. A Pending outcome with a zero
// NextAttemptAt is due at once.
//
// Concurrent calls are sent together (see Finish batching above); each call gets its own outcome and
// returns only after its batch committed. If ctx is done before its batch starts, Finish returns
// ctx.Err() and changes nothing; once the batch has started it waits for the outcome.
func (s *Store) Finish(ctx context.Context, id int64, owner string, o store.Outcome) error {
	if err := s.check(); err != nil {
		return err
	}
	switch o.State {
	case store.Delivered, store.Pending, store.Dead:
	default:
		return fmt.Errorf("finish delivery %d: outcome state %q: use delivered, pending or dead", id, o.State)
	}
	return s.finishes.Do(ctx, finishReq{id: id, owner: owner, o: o})
}

// finishArgs are finishSQL's arguments for r, at now.
func finishArgs(r finishReq, now time.Time) []any {
	a := r.o.Attempt
	a.Error, a.Reason = store.CleanText(a.Error), store.CleanText(a.Reason)
	started := a.StartedAt
	if started.IsZero() {
		started = now
	}
	next := r.o.NextAttemptAt
	if next.IsZero() {
		next = now
	}
	return []any{r.id, r.owner, string(r.o.State), next, a.Error, a.Reason, a.StatusCode, now,
		started, int64(a.Duration), a.Result}
}

// finishBatch is the store.BatchFunc of Finish. It sends the batch as one transaction; a call that
// changed nothing learns why afterwards (store.ErrLeaseLost or store.ErrNotFound). Should the
// transaction fail, it finishes each call on its own so that a failing call fails alone.
func (s *Store) finishBatch(batch []*store.BatchItem[finishReq]) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if len(batch) == 1 {
		// One statement commits on its own: no batch, no extra round trips.
		batch[0].Err = s.finishAlone(ctx, batch[0].Req)
		return nil
	}
	now := time.Now()
	changed := make([]bool, len(batch))
	// A batch sent without BEGIN runs as one implicit transaction in one round trip: a failing
	// statement rolls back the whole batch.
	b := &pgx.Batch{}
	for _, it := range batch {
		b.Queue(finishSQL, finishArgs(it.Req, now)...)
	}
	br := s.pool.SendBatch(ctx, b)
	var err error
	for i := range batch {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err != nil {
			break
		}
		changed[i] = tag.RowsAffected() == 1
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		for _, it := range batch {
			it.Err = s.finishAlone(ctx, it.Req)
		}
		return nil
	}
	for i, it := range batch {
		if !changed[i] {
			it.Err = s.notFinished(ctx, it.Req.id)
		}
	}
	return nil
}

// finishAlone finishes one delivery in its own transaction.
func (s *Store) finishAlone(ctx context.Context, r finishReq) error {
	tag, err := s.pool.Exec(ctx, finishSQL, finishArgs(r, time.Now())...)
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", r.id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return s.notFinished(ctx, r.id)
}

// notFinished says why a delivery was not finished: store.ErrNotFound when it does not exist,
// store.ErrLeaseLost when it is not leased to the caller.
func (s *Store) notFinished(ctx context.Context, id int64) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, id).Scan(&exists); err != nil {
		return fmt.Errorf("finish delivery %d: %w", id, err)
	}
	if !exists {
		return fmt.Errorf("finish delivery %d: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("finish delivery %d: %w", id, store.ErrLeaseLost)
}
