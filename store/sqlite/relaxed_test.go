package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestRelaxedDropsConnInTx checks relaxed with a connection still inside a transaction when its
// function returns, as when a cancelled context's rollback has not run yet: SQLite refuses to
// restore synchronous = FULL there, so relaxed drops the connection, and the one that replaces it
// must have every setting of the store's DSN, not only synchronous.
func TestRelaxedDropsConnInTx(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := t.Context()
	err := s.relaxed(ctx, func(conn *sql.Conn) error {
		// A transaction database/sql does not know of: it is still open when relaxed restores FULL.
		_, err := conn.ExecContext(ctx, `BEGIN`)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "inside a transaction") {
		t.Fatalf("relaxed with a transaction left open: error = %v, want SQLite refusing to change synchronous", err)
	}
	wantWriterSettings(t, s, "writer after a dropped connection")
	// The new connection is not inside a transaction: a relaxed write commits.
	err = s.relaxed(context.WithoutCancel(ctx), func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		if _, err := tx.ExecContext(ctx, `INSERT INTO wakeups (sink, at) VALUES ('a', 1)`); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		t.Fatalf("relaxed write after a dropped connection: %v", err)
	}
}

// wantWriterSettings checks that the writer s serves next has every setting of the store's DSN;
// when names the moment checked, for the errors.
func wantWriterSettings(t *testing.T, s *Store, when string) {
	t.Helper()
	for _, p := range []struct{ pragma, want string }{
		{"synchronous", "2"}, // FULL
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"temp_store", "2"}, // MEMORY
	} {
		var got string
		if err := s.write.QueryRowContext(t.Context(), `PRAGMA `+p.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", when, p.pragma, err)
		}
		if got != p.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", when, p.pragma, got, p.want)
		}
	}
}
