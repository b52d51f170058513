package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// UpgradeChecks checks a store opened on data that an earlier version wrote: call 1, received at
// unix second 1000 with the raw body {"id":1}. Stores' upgrade tests run it after building such data.
func UpgradeChecks(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Ingest(ctx, &store.Call{ID: 1, Raw: []byte(`{ "id": 1 }`)}, nil); !errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrConflict) {
		t.Errorf("Ingest(call 1, same JSON) error = %v, want ErrDuplicate", err)
	}
	if _, err := s.Ingest(ctx, &store.Call{ID: 1, Raw: []byte(`{"id":1,"status":"failed"}`)}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Ingest(call 1, other JSON) error = %v, want ErrConflict", err)
	}
	mustIngest(t, s, &store.Call{ID: 2, ReceivedAt: time.Unix(500, 0).UTC(), Raw: []byte(`{"id":2}`)})
	mustIngest(t, s, &store.Call{ID: 3, ReceivedAt: time.Unix(2000, 0).UTC(), Raw: []byte(`{"id":3}`)})
	cs, err := s.ListCalls(ctx, store.CallFilter{})
	var got []int64
	for _, c := range cs {
		got = append(got, c.ID)
	}
	if err != nil || !slices.Equal(got, []int64{3, 1, 2}) {
		t.Errorf("ListCalls = %v, %v; want [3 1 2] (newest first by arrival)", got, err)
	}
}
