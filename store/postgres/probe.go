package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-relay/switchboard/store"
)

// probeSchema is the one-row table Probe writes, in the schema of the other tables. It is created by
// Probe itself, not by a migration: it holds nothing anyone reads, and the statement changes nothing
// once the table exists.
const probeSchema = `CREATE TABLE IF NOT EXISTS write_probe (
	id        smallint    PRIMARY KEY CHECK (id = 1),
	probed_at timestamptz NOT NULL,
	probes    bigint      NOT NULL
)`

// Probe commits one small write and returns its error: it fails while the server cannot commit (a
// full disk, a read-only server after a failover, an unreachable server). Replicas sharing the
// database write the same row.
func (s *Store) Probe(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if _, err := s.pool.Exec(ctx, probeSchema); err != nil && !createRace(err) {
		return fmt.Errorf("probe postgres: create probe table: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("probe postgres: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.Exec(ctx, `INSERT INTO write_probe (id, probed_at, probes) VALUES (1, $1, 1)
		ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, probes = write_probe.probes + 1`, time.Now()); err != nil {
		return fmt.Errorf("probe postgres: write: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("probe postgres: commit: %w", err)
	}
	return nil
}

// createRace reports whether err is another replica creating the probe table at the same moment
// (CREATE TABLE IF NOT EXISTS is not atomic across sessions): the table then exists. The loser sees a
// unique violation in the catalog (23505), the table (42P07) or its row type (42710) already there.
func createRace(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07" || pe.Code == "42710")
}
