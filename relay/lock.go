package relay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/store/lockfile"
)

// lockStorage makes this process the only `serve` on an SQLite file: it holds an exclusive OS lock on
// "<path>.lock" until release is called or the process ends. A second serve would recover the first
// one's in-flight deliveries (RecoverInFlight) and send them again, so it must not start. Short
// commands (replay) do not lock: they never recover in-flight work. PostgreSQL needs no lock: its
// leases are shared by design.
func lockStorage(cfg config.Storage) (release func(), err error) {
	if cfg.Driver != "" && cfg.Driver != "sqlite" {
		return func() {}, nil
	}
	if cfg.Path == "" {
		return func() {}, nil // sqlite.Open reports the missing path
	}
	if dir := filepath.Dir(cfg.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("storage: create directory: %w", err)
		}
	}
	l, err := lockfile.Acquire(cfg.Path + ".lock")
	var held *lockfile.HeldError
	switch {
	case errors.As(err, &held):
		pid := "pid unknown"
		if held.PID != 0 {
			pid = fmt.Sprintf("pid %d", held.PID)
		}
		return nil, fmt.Errorf("storage: %s is in use by another switchboard process (%s)", cfg.Path, pid)
	case err != nil:
		return nil, fmt.Errorf("storage: %w", err)
	}
	return func() { _ = l.Release() }, nil
}
