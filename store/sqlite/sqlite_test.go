package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

// openTemp opens a store in a new temporary directory, closed when t ends.
func openTemp(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "switchboard.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q) error = %v, want nil", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() error = %v, want nil", err)
		}
	})
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t, Options{})
		return s
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
		s, path := openTemp(t, Options{})
		return s, func(t *testing.T) store.Store {
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("reopen %q error = %v, want nil", path, err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{name: "creates nested directories", path: filepath.Join(dir, "a", "b", "c.db")},
		{name: "empty path", path: "", wantErr: true},
		{name: "question mark", path: filepath.Join(dir, "what?.db"), wantErr: true},
		{name: "directory is a file", path: filepath.Join(dir, "file", "x.db"), wantErr: true},
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, Options{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open(%q) error = %v, want error %v", tt.path, err, tt.wantErr)
			}
			if err == nil {
				if err := s.Ping(t.Context()); err != nil {
					t.Errorf("Ping() error = %v, want nil", err)
				}
				s.Close()
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	s, path := openTemp(t, Options{})
	var version int
	if err := s.read.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) {
		t.Errorf("schema version = %d, want %d", version, len(migrations))
	}
	var mode string
	if err := s.write.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var sync int
	if err := s.write.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}

	// Reopening applies nothing twice; a database from a newer build is refused.
	second, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("second Open error = %v, want nil", err)
	}
	if _, err := second.write.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	second.Close()
	if s, err := Open(path, Options{}); err == nil {
		s.Close()
		t.Errorf("Open of a newer schema error = nil, want an error")
	}
}

func TestClosedReturnsErrClosed(t *testing.T) {
	s, _ := openTemp(t, Options{})
	s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ping after Close error = %v, want ErrClosed", err)
	}
	if err := s.Watch(t.Context(), func(string) {}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch after Close error = %v, want ErrClosed", err)
	}
}

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t, Options{})
		return s
	})
}
