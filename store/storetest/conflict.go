package storetest

import (
	"errors"
	"testing"

	"github.com/switchboard-relay/switchboard/store"
)

// testDuplicateContent sends call 42 again with bodies that decode to the same JSON (a duplicate) or
// to other JSON (a conflict); neither stores anything.
func testDuplicateContent(t *testing.T, s store.Store) {
	first := newCall(42, t0, "r")
	first.Raw = []byte(`{"id":42,"status":"completed","extracted_variables":{"a":1,"b":"x"}}`)
	mustIngest(t, s, first, pending("r", 0, "a"))
	tests := []struct {
		name         string
		raw          string
		wantConflict bool
	}{
		{name: "same bytes", raw: string(first.Raw)},
		{name: "key order and whitespace", raw: "{\"extracted_variables\": {\"b\": \"x\", \"a\": 1},\n \"status\": \"completed\", \"id\": 42}"},
		{name: "other status", raw: `{"id":42,"status":"failed","extracted_variables":{"a":1,"b":"x"}}`, wantConflict: true},
		{name: "nested value", raw: `{"id":42,"status":"completed","extracted_variables":{"a":2,"b":"x"}}`, wantConflict: true},
		{name: "field added", raw: `{"id":42,"status":"completed","extracted_variables":{"a":1,"b":"x"},"lead":{}}`, wantConflict: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			again := newCall(42, t0, "other")
			again.Raw = []byte(tt.raw)
			ids, err := s.Ingest(t.Context(), again, []store.NewDelivery{pending("other", 0, "b")})
			if !errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrConflict) != tt.wantConflict {
				t.Fatalf("Ingest(42 again) = %v, %v; want ErrDuplicate, conflict %t", ids, err, tt.wantConflict)
			}
		})
	}
	got, err := s.GetCall(t.Context(), 42)
	if err != nil || string(got.Raw) != string(first.Raw) {
		t.Errorf("GetCall(42) = %v, %v; want the first body %s", got, err, first.Raw)
	}
	if ds := listAll(t, s, store.DeliveryFilter{}); len(ds) != 1 {
		t.Errorf("deliveries stored = %d, want 1 (the first call's)", len(ds))
	}
}
