package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// Finish batching: concurrent Finish calls queue in a store.Batcher and one goroutine commits them
// together, whatever queued while the previous batch ran (up to Options.MaxBatch, no extra wait), in
// one relaxed transaction on the writer connection with one savepoint per call. A busy queue then
// costs one write transaction per batch instead of one per delivery, and finishes no longer line up
// one by one behind Ingest's fsyncs.
//
// Fairness: the Ingest committer and the queue's transactions (each Claim, each Finish batch) take
// turns at the one writer connection through writerGate, which lets the short queue transactions go
// ahead of a waiting Ingest batch a bounded number of times (see gate.go).

// finishReq is one Finish call waiting for its batch.
type finishReq struct {
	id    int64
	owner string
	o     store.Outcome
	due   sql.NullInt64
}

const (
	finishUpdateSQL = `UPDATE deliveries
		SET state = ?, next_attempt_at = ?, due_at = ?, lease_owner = '', lease_expires = 0,
			last_error = ?, last_reason = ?, last_status = ?, updated_at = ?
		WHERE id = ? AND state = 'in_flight' AND lease_owner = ?
		RETURNING attempt_number`
	finishAttemptSQL = `INSERT INTO delivery_attempts
		(delivery_id, number, started_at, duration, result, status_code, reason, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	deliveryExistsSQL = `SELECT count(*) FROM deliveries WHERE id = ?`
)

// Finish records the attempt and moves the delivery to o.State. The attempt's Number is recorded as
// the delivery's AttemptNumber (the claim that started it), whatever o.Attempt.Number says. It
// returns store.ErrLeaseLost unless the delivery is in flight and leased to owner, and
// store.ErrNotFound when it does not exist.
//
// Concurrent calls are committed together (see the package's Finish batching); each call gets its
// own outcome and returns only after its batch committed. If ctx is done before its batch starts,
// Finish returns ctx.Err() and changes nothing; once the batch has started it waits for the outcome.
func (s *Store) Finish(ctx context.Context, id int64, owner string, o store.Outcome) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	var due sql.NullInt64
	switch o.State {
	case store.Pending:
		due = sql.NullInt64{Int64: nanos(o.NextAttemptAt), Valid: true}
	case store.Delivered, store.Dead:
	default:
		return fmt.Errorf("finish delivery %d: state %q is not a final or retry state: use delivered, pending or dead", id, o.State)
	}
	err := s.finishes.Do(ctx, finishReq{id: id, owner: owner, o: o, due: due})
	if errors.Is(err, store.ErrClosed) {
		return store.ErrClosed
	}
	return err
}

// finishBatch is the store.BatchFunc of Finish: one relaxed transaction, one savepoint per call so
// that a call whose lease is lost, or whose delivery is gone, fails alone.
func (s *Store) finishBatch(batch []*store.BatchItem[finishReq]) error {
	ctx := context.Background()
	return s.relaxed(ctx, func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return s.fail("finish: begin", err)
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		st := s.stmts(ctx, tx)
		now := nanos(time.Now())
		single := len(batch) == 1
		for _, it := range batch {
			if single {
				// A lone call needs no savepoint: its failure is the batch's.
				it.Err = s.finishOne(st, it.Req, now)
				if it.Err != nil {
					return nil // rolled back by the deferred Rollback; the caller gets it.Err
				}
				continue
			}
			if _, err := st.exec(hotSavepoint); err != nil {
				return s.fail("finish: savepoint", err)
			}
			if it.Err = s.finishOne(st, it.Req, now); it.Err != nil {
				if _, err := st.exec(hotRollbackTo); err != nil {
					return s.fail("finish: roll back one delivery", err)
				}
			}
			if _, err := st.exec(hotRelease); err != nil {
				return s.fail("finish: release savepoint", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return s.fail("finish: commit", err)
		}
		return nil
	})
}

// finishOne finishes one delivery inside the batch's transaction.
func (s *Store) finishOne(st *txStmts, r finishReq, now int64) error {
	a := r.o.Attempt
	a.Error, a.Reason = store.CleanText(a.Error), store.CleanText(a.Reason)
	var number int
	err := st.queryRow(hotFinishUpdate,
		string(r.o.State), nanos(r.o.NextAttemptAt), r.due, a.Error, a.Reason, a.StatusCode, now,
		r.id, r.owner).Scan(&number)
	if errors.Is(err, sql.ErrNoRows) {
		var exists int
		if err := st.queryRow(hotDeliveryExists, r.id).Scan(&exists); err != nil {
			return s.fail(fmt.Sprintf("finish delivery %d", r.id), err)
		}
		if exists == 0 {
			return fmt.Errorf("finish delivery %d: %w", r.id, store.ErrNotFound)
		}
		return fmt.Errorf("finish delivery %d: %w", r.id, store.ErrLeaseLost)
	}
	if err != nil {
		return s.fail(fmt.Sprintf("finish delivery %d", r.id), err)
	}
	if _, err := st.exec(hotFinishAttempt, r.id, number, nanos(a.StartedAt), int64(a.Duration), a.Result,
		a.StatusCode, a.Reason, a.Error); err != nil {
		return s.fail(fmt.Sprintf("finish delivery %d: record attempt", r.id), err)
	}
	if r.o.State == store.Dead {
		return recordDeath(st, r.id, now)
	}
	return nil
}
