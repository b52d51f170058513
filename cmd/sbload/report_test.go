package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "none", sorted: nil, p: 0.5, want: 0},
		{name: "one sample", sorted: []time.Duration{7}, p: 0.99, want: 7},
		{name: "p50 of 100", sorted: hundred, p: 0.50, want: 50 * time.Millisecond},
		{name: "p90 of 100", sorted: hundred, p: 0.90, want: 90 * time.Millisecond},
		{name: "p99 of 100", sorted: hundred, p: 0.99, want: 99 * time.Millisecond},
		{name: "p100 of 100", sorted: hundred, p: 1, want: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMerge checks that workers' tallies add up and the report reads as documented.
func TestMerge(t *testing.T) {
	a, b := newTally(), newTally()
	a.add(outcome{id: 1, status: 202, latency: 2 * time.Millisecond, bytes: 1000})
	a.add(outcome{id: 2, status: 401, latency: time.Millisecond, bytes: 1000})
	b.add(outcome{id: 3, errKind: "connection refused", bytes: 1000})
	b.add(outcome{id: 4, status: 200, latency: 4 * time.Millisecond, bytes: 1000})
	r := merge([]*tally{a, b}, 2*time.Second)
	if r.Requests != 4 || r.Acked != 2 || r.Errors != 1 || r.PerSec != 2 || r.Bytes != 4000 || r.ok() {
		t.Errorf("got requests %d, acked %d, errors %d, %.1f/s, %d bytes, ok %v; want 4, 2, 1, 2.0/s, 4000, false",
			r.Requests, r.Acked, r.Errors, r.PerSec, r.Bytes, r.ok())
	}
	if r.Latency.Max != 4 || r.Latency.P50 != 2 {
		t.Errorf("got latency %+v, want p50 2 ms and max 4 ms", r.Latency)
	}
	var out bytes.Buffer
	if err := r.print(&out, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 in 2.00s (2.0 req/s), 2 acked (2xx), 1 errors", "status:      200=1 202=1 401=1",
		"errors:      connection refused=1", "p50 2.00ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("got report\n%s\nwant it to contain %q", out.String(), want)
		}
	}
}
