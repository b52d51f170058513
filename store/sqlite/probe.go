package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// probeSchema is the one-row table Probe writes. It is created by Probe itself, not by a migration:
// it holds nothing anyone reads, and the statement changes nothing once the table exists.
const probeSchema = `CREATE TABLE IF NOT EXISTS write_probe (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	probed_at INTEGER NOT NULL,
	probes    INTEGER NOT NULL
)`

// Probe commits one small write on the writer connection, durably (synchronous=FULL), and returns its
// error: it fails while the disk is full or the file cannot be written.
func (s *Store) Probe(ctx context.Context) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("probe sqlite store: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, probeSchema); err != nil {
		return fmt.Errorf("probe sqlite store: create probe table: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO write_probe (id, probed_at, probes) VALUES (1, ?, 1)
		ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, probes = probes + 1`, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("probe sqlite store: write: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("probe sqlite store: commit: %w", err)
	}
	return nil
}
