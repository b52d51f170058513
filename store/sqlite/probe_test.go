package sqlite

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/switchboard-relay/switchboard/store"
)

// TestProbe: Probe commits while the database can grow, fails while it cannot (max_page_count stands
// in for a full disk: SQLite then answers SQLITE_FULL, as on ENOSPC), succeeds again once it can, and
// returns ErrClosed after Close.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	var pages int64
	if err := s.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		maxPages int64 // 0: leave as it is
		wantErr  bool
	}{
		{name: "full before the probe table exists", maxPages: pages, wantErr: true},
		{name: "room again", maxPages: 1 << 30},
		{name: "second probe updates the row", wantErr: false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.maxPages > 0 {
				if _, err := s.write.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.FormatInt(st.maxPages, 10)); err != nil {
					t.Fatal(err)
				}
			}
			err := s.Probe(ctx)
			if (err != nil) != st.wantErr {
				t.Fatalf("Probe() = %v, want error %v", err, st.wantErr)
			}
		})
	}
	var probes int
	if err := s.read.QueryRowContext(ctx, `SELECT probes FROM write_probe`).Scan(&probes); err != nil || probes != 2 {
		t.Errorf("probes recorded = %d (err %v), want 2", probes, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Probe after Close = %v, want ErrClosed", err)
	}
}
