package sqlite

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// TestBatchIsolatesFailures commits batches by hand (as the group committer would) and checks that a
// duplicate or a failing call fails only itself.
func TestBatchIsolatesFailures(t *testing.T) {
	s, _ := openTemp(t, Options{})
	// A real SQLite error for one call id: the trigger aborts its insert.
	if _, err := s.write.Exec(`CREATE TRIGGER fail_666 BEFORE INSERT ON calls WHEN NEW.id = 666
		BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`); err != nil {
		t.Fatal(err)
	}
	mustStore := func(id int64) {
		t.Helper()
		if _, err := s.GetCall(t.Context(), id); err != nil {
			t.Errorf("GetCall(%d) error = %v, want stored", id, err)
		}
	}
	req := func(id int64) *store.IngestRequest {
		return &store.IngestRequest{
			Call:       &store.Call{ID: id, ReceivedAt: time.Unix(100, 0)},
			Deliveries: []store.NewDelivery{{Rule: "r", Sink: "a"}},
		}
	}
	mustIngestOne(t, s, 1)

	batch := []*store.IngestRequest{req(2), req(1), req(3), req(3), req(666), req(4)}
	if err := s.commitBatch(batch); err != nil {
		t.Fatalf("commitBatch error = %v, want nil", err)
	}
	tests := []struct {
		name    string
		r       *store.IngestRequest
		wantErr error
		wantIDs int
	}{
		{name: "new", r: batch[0], wantIDs: 1},
		{name: "duplicate of a stored call", r: batch[1], wantErr: store.ErrDuplicate},
		{name: "first of two in one batch", r: batch[2], wantIDs: 1},
		{name: "second of two in one batch", r: batch[3], wantErr: store.ErrDuplicate},
		{name: "failing insert", r: batch[4], wantErr: errAny},
		{name: "after the failure", r: batch[5], wantIDs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch {
			case tt.wantErr == errAny && tt.r.Err == nil:
				t.Errorf("call %d: Err = nil, want an error", tt.r.Call.ID)
			case tt.wantErr != errAny && !errors.Is(tt.r.Err, tt.wantErr):
				t.Errorf("call %d: Err = %v, want %v", tt.r.Call.ID, tt.r.Err, tt.wantErr)
			}
			if len(tt.r.IDs) != tt.wantIDs {
				t.Errorf("call %d: %d ids, want %d", tt.r.Call.ID, len(tt.r.IDs), tt.wantIDs)
			}
		})
	}
	for _, id := range []int64{2, 3, 4} {
		mustStore(id)
	}
	if _, err := s.GetCall(t.Context(), 666); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall(666) error = %v, want ErrNotFound", err)
	}
	var n int
	if err := s.read.QueryRow(`SELECT count(*) FROM deliveries`).Scan(&n); err != nil || n != 4 {
		t.Errorf("deliveries = %d, %v; want 4 (calls 1-4, none for the duplicates or the failure)", n, err)
	}
}

// errAny stands for "some error" in test tables.
var errAny = errors.New("any error")

func mustIngestOne(t *testing.T, s *Store, id int64) {
	t.Helper()
	if _, err := s.Ingest(t.Context(), &store.Call{ID: id}, []store.NewDelivery{{Rule: "r", Sink: "a"}}); err != nil {
		t.Fatalf("Ingest(%d) error = %v, want nil", id, err)
	}
}

// TestConcurrentIngestWithFailure runs the failing call among many concurrent ones through the group
// committer: only its caller sees an error.
func TestConcurrentIngestWithFailure(t *testing.T) {
	s, _ := openTemp(t, Options{})
	if _, err := s.write.Exec(`CREATE TRIGGER fail_666 BEFORE INSERT ON calls WHEN NEW.id = 666
		BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`); err != nil {
		t.Fatal(err)
	}
	errs := make(map[int64]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id := int64(600); id < 700; id++ {
		wg.Go(func() {
			_, err := s.Ingest(context.Background(), &store.Call{ID: id}, []store.NewDelivery{{Rule: "r", Sink: "a"}})
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	for id, err := range errs {
		if (err != nil) != (id == 666) {
			t.Errorf("Ingest(%d) error = %v, want an error only for 666", id, err)
		}
	}
}

// TestWatchSeesOtherProcess opens the file twice, as switchboard serve and switchboard replay do, and
// checks that a Requeue through one wakes a watcher on the other.
func TestWatchSeesOtherProcess(t *testing.T) {
	server, path := openTemp(t, Options{PollInterval: 20 * time.Millisecond})
	if _, err := server.Ingest(t.Context(), &store.Call{ID: 1}, []store.NewDelivery{{Rule: "r", Sink: "crm", Dead: true}}); err != nil {
		t.Fatal(err)
	}
	notified := make(chan string, 10)
	if err := server.Watch(t.Context(), func(sink string) { notified <- sink }); err != nil {
		t.Fatalf("Watch error = %v, want nil", err)
	}
	replay, err := Open(path, Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Close()
	if n, err := replay.Requeue(t.Context(), store.Selector{AllDead: true}, time.Now()); err != nil || n != 1 {
		t.Fatalf("Requeue = %d, %v; want 1, nil", n, err)
	}
	select {
	case got := <-notified:
		if got != "crm" {
			t.Errorf("notified sink = %q, want crm", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s of a Requeue in another process")
	}
}
