package router

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestIngestDuplicateContent posts call 501 again with the same JSON written differently (a
// duplicate) and with other JSON (a conflict): both are answered 200 and nothing new is queued, but a
// conflict says so, is logged at warn level and is counted as conflict instead of duplicate.
func TestIngestDuplicateContent(t *testing.T) {
	const first = `{"id": 501, "status": "completed", "lead": {"bonus": 1}}`
	tests := []struct {
		name         string
		again        string
		wantConflict bool
	}{
		{name: "same JSON written differently", again: "{\"lead\":{\"bonus\":1},\n\"status\":\"completed\",\"id\":501}"},
		{name: "other status", again: `{"id": 501, "status": "failed", "lead": {"bonus": 1}}`, wantConflict: true},
		{name: "other nested value", again: `{"id": 501, "status": "completed", "lead": {"bonus": 2}}`, wantConflict: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			var logs bytes.Buffer
			h.router.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if status, body := h.post(first); status != http.StatusAccepted {
				t.Fatalf("first: status = %d, want 202 (body %v)", status, body)
			}
			status, body := h.post(tt.again)
			if status != http.StatusOK {
				t.Fatalf("again: status = %d, want 200 (body %v)", status, body)
			}
			wantLen := 2
			if tt.wantConflict {
				wantLen = 3
			}
			if body["call_id"] != float64(501) || body["duplicate"] != true || len(body) != wantLen ||
				(tt.wantConflict && body["conflict"] != true) {
				t.Errorf("again: body = %v, want call_id 501, duplicate true, conflict %t", body, tt.wantConflict)
			}
			if got := len(h.deliveries(501)); got != 2 {
				t.Errorf("deliveries = %d, want 2 (nothing new queued)", got)
			}
			wantDup, wantConflict := 1.0, 0.0
			if tt.wantConflict {
				wantDup, wantConflict = 0, 1
			}
			if got := testutil.ToFloat64(h.metrics.Received.WithLabelValues(outcomeDuplicate)); got != wantDup {
				t.Errorf("received{outcome=duplicate} = %v, want %v", got, wantDup)
			}
			if got := testutil.ToFloat64(h.metrics.Received.WithLabelValues(outcomeConflict)); got != wantConflict {
				t.Errorf("received{outcome=conflict} = %v, want %v", got, wantConflict)
			}
			warned := strings.Contains(logs.String(), "level=WARN msg=\"duplicate call id with different content")
			if warned != tt.wantConflict || (warned && !strings.Contains(logs.String(), "call_id=501")) {
				t.Errorf("log = %q, want a warning naming call 501: %t", logs.String(), tt.wantConflict)
			}
		})
	}
}
