package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Prepared statements of the hot path. modernc.org/sqlite compiles the SQL text anew for every
// QueryContext or ExecContext on a connection or transaction (sqlite3_prepare_v2: parse, name
// resolution and code generation), which cost about a fifth of the relay's CPU under load. A
// statement prepared on a *sql.DB instead keeps its compiled form per connection: database/sql
// prepares it on each connection the first time it runs there, and the driver then only resets and
// rebinds it. The writer's statements are prepared on the writer pool at Open and bound to each
// transaction with tx.StmtContext (see txStmts), which reuses the connection's compiled statement.

// hot names a statement prepared on the writer.
type hot int

const (
	hotInsertCall hot = iota
	hotInsertDelivery
	hotRecordDeath
	hotClaim
	hotFinishUpdate
	hotFinishAttempt
	hotDeliveryExists
	hotSinkActive
	hotSavepoint
	hotRollbackTo
	hotRelease
	numHot
)

// hotSQL is the text of each writer statement. The savepoint is named "item" wherever it is used (one
// per call of an Ingest batch, one per delivery of a Finish batch).
var hotSQL = [numHot]string{
	hotInsertCall:     insertCallSQL,
	hotInsertDelivery: insertDeliverySQL,
	hotRecordDeath:    recordDeathSQL,
	hotClaim:          claimSQL,
	hotFinishUpdate:   finishUpdateSQL,
	hotFinishAttempt:  finishAttemptSQL,
	hotDeliveryExists: deliveryExistsSQL,
	hotSinkActive:     sinkActiveSQL,
	hotSavepoint:      `SAVEPOINT item`,
	hotRollbackTo:     `ROLLBACK TO item`,
	hotRelease:        `RELEASE item`,
}

// prepared holds the statements prepared at Open, until Close.
type prepared struct {
	write   [numHot]*sql.Stmt
	nextDue *sql.Stmt // on the read pool
}

// prepare compiles the hot-path statements on the writer and read pools. Run it after the schema is
// up to date (a statement compiled against an older schema would be recompiled on first use anyway).
func prepare(ctx context.Context, write, read *sql.DB) (*prepared, error) {
	p := &prepared{}
	for h, text := range hotSQL {
		st, err := write.PrepareContext(ctx, text)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("prepare %q: %w", text, err)
		}
		p.write[h] = st
	}
	st, err := read.PrepareContext(ctx, nextDueSQL)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("prepare %q: %w", nextDueSQL, err)
	}
	p.nextDue = st
	return p, nil
}

// close releases the statements; a transaction still using one keeps it until it ends.
func (p *prepared) close() error {
	var errs []error
	for _, st := range p.write {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if p.nextDue != nil {
		errs = append(errs, p.nextDue.Close())
	}
	return errors.Join(errs...)
}

// txStmts binds the writer's prepared statements to one transaction, each on its first use there.
type txStmts struct {
	ctx   context.Context
	tx    *sql.Tx
	p     *prepared
	bound [numHot]*sql.Stmt
}

// stmts returns the prepared statements for use in tx.
func (s *Store) stmts(ctx context.Context, tx *sql.Tx) *txStmts {
	return &txStmts{ctx: ctx, tx: tx, p: s.prep}
}

// get returns statement h bound to the transaction. The bound statement is closed with the
// transaction; the compiled statement stays with the connection.
func (t *txStmts) get(h hot) *sql.Stmt {
	if t.bound[h] == nil {
		t.bound[h] = t.tx.StmtContext(t.ctx, t.p.write[h])
	}
	return t.bound[h]
}

func (t *txStmts) exec(h hot, args ...any) (sql.Result, error) {
	return t.get(h).ExecContext(t.ctx, args...)
}

func (t *txStmts) query(h hot, args ...any) (*sql.Rows, error) {
	return t.get(h).QueryContext(t.ctx, args...)
}

func (t *txStmts) queryRow(h hot, args ...any) *sql.Row {
	return t.get(h).QueryRowContext(t.ctx, args...)
}
