package router

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestListCallsByArrival posts calls in another order than their ids and pages through
// /api/calls: newest first by arrival, with next_before (or a call id) as before=.
func TestListCallsByArrival(t *testing.T) {
	h := newHarness(t, adminToken, nil)
	var tick atomic.Int64
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	h.router.opts.Now = func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) }
	for _, id := range []int{30, 10, 50, 20, 40} { // arrival order
		if status, body := h.post(fmt.Sprintf(`{"id": %d, "status": "busy"}`, id)); status != http.StatusAccepted {
			t.Fatalf("post %d: status %d (%v)", id, status, body)
		}
	}
	list := func(t *testing.T, query string) ([]float64, string) {
		t.Helper()
		status, body := h.do(http.MethodGet, "/api/calls"+query, adminToken, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /api/calls%s: status %d (%v)", query, status, body)
		}
		var ids []float64
		for _, c := range body["calls"].([]any) {
			ids = append(ids, c.(map[string]any)["id"].(float64))
		}
		next, _ := body["next_before"].(string)
		return ids, next
	}
	tests := []struct {
		name     string
		query    string
		want     []float64
		wantNext bool
	}{
		{name: "newest first", query: "", want: []float64{40, 20, 50, 10, 30}},
		{name: "first page", query: "?limit=2", want: []float64{40, 20}, wantNext: true},
		{name: "older than a call id", query: "?before=50", want: []float64{10, 30}},
		{name: "older than a cursor", query: "?before=" + url.QueryEscape("2026-03-01T09:00:03Z,50"), want: []float64{10, 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, next := list(t, tt.query)
			if !slices.Equal(ids, tt.want) || (next != "") != tt.wantNext {
				t.Errorf("calls = %v, next_before %q; want %v, next_before given: %t", ids, next, tt.want, tt.wantNext)
			}
		})
	}
	t.Run("walk every page", func(t *testing.T) {
		var all []float64
		query := "?limit=2"
		for range 10 {
			ids, next := list(t, query)
			all = append(all, ids...)
			if next == "" {
				break
			}
			query = "?limit=2&before=" + url.QueryEscape(next)
		}
		if want := []float64{40, 20, 50, 10, 30}; !slices.Equal(all, want) {
			t.Errorf("pages = %v, want %v", all, want)
		}
	})
}
