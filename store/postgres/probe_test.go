package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/switchboard-relay/switchboard/store"
)

// TestProbe: replicas starting together probe at once (the first probes create the table and must
// not fail for racing each other), every probe commits, and a closed store answers ErrClosed.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	replicas := []*Store{open(t, dsn), open(t, dsn), open(t, dsn)}
	const rounds = 3
	var wg sync.WaitGroup
	errs := make(chan error, len(replicas)*rounds)
	for _, s := range replicas {
		wg.Go(func() {
			for range rounds {
				errs <- s.Probe(ctx)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Probe() = %v, want nil", err)
		}
	}
	var probes int64
	if err := replicas[0].pool.QueryRow(ctx, `SELECT probes FROM write_probe`).Scan(&probes); err != nil || probes != int64(len(replicas)*rounds) {
		t.Errorf("probes recorded = %d (err %v), want %d", probes, err, len(replicas)*rounds)
	}
	if err := replicas[0].Close(); err != nil {
		t.Fatal(err)
	}
	if err := replicas[0].Probe(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Probe after Close = %v, want ErrClosed", err)
	}
}
