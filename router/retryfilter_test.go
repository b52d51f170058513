package router

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// seedDead stores call id with a dead letter to each of sinks, created dead at ingest with reason.
func seedDead(t *testing.T, st store.Store, id int64, received time.Time, reason string, sinks ...string) {
	t.Helper()
	var ds []store.NewDelivery
	for i, s := range sinks {
		ds = append(ds, store.NewDelivery{Rule: "hot", Action: i, Sink: s, Message: []byte(`{}`), Dead: true, Reason: reason, Error: "x"})
	}
	if _, err := st.Ingest(context.Background(), &store.Call{ID: id, ReceivedAt: received, Raw: []byte(`{}`)}, ds); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

func TestRetryFiltered(t *testing.T) {
	now := time.Now().UTC()
	tests := []struct {
		name       string
		body       string
		wantStatus int
		want       map[string]any
		wantErr    string
		wantDead   int // dead deliveries left
	}{
		{name: "by sink and reason", body: `{"sink":"crm","reason":"client_error"}`, wantStatus: 200,
			want: map[string]any{"requeued": float64(1)}, wantDead: 3},
		{name: "since", body: `{"since":"2h"}`, wantStatus: 200, want: map[string]any{"requeued": float64(3)}, wantDead: 1},
		{name: "until RFC 3339", body: `{"until":"` + now.Add(-2*time.Hour).Format(time.RFC3339) + `"}`, wantStatus: 200,
			want: map[string]any{"requeued": float64(1)}, wantDead: 3},
		{name: "empty body is every dead delivery", body: ``, wantStatus: 200, want: map[string]any{"requeued": float64(4)}, wantDead: 0},
		{name: "matches nothing", body: `{"sink":"nowhere"}`, wantStatus: 200, want: map[string]any{"requeued": float64(0)}, wantDead: 4},
		{name: "dry run", body: `{"sink":"crm","dry_run":true}`, wantStatus: 200, want: map[string]any{"would_requeue": float64(3)}, wantDead: 4},
		{name: "unknown reason", body: `{"reason":"bad"}`, wantStatus: 400, wantErr: `reason: unknown reason "bad"`, wantDead: 4},
		{name: "bad since", body: `{"since":"soon"}`, wantStatus: 400, wantErr: `since: must be a duration ago`, wantDead: 4},
		{name: "unknown field", body: `{"sinks":"crm"}`, wantStatus: 400, wantErr: `unknown field "sinks"`, wantDead: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, adminToken, func() error { return nil })
			seedDead(t, h.st, 1, now.Add(-3*time.Hour), "server_error", "crm")
			seedDead(t, h.st, 2, now.Add(-time.Hour), "client_error", "crm")
			seedDead(t, h.st, 3, now.Add(-time.Hour), "server_error", "crm", "slack")
			status, got := h.do(http.MethodPost, "/api/deliveries/retry", adminToken, []byte(tt.body))
			if status != tt.wantStatus {
				t.Fatalf("status = %d (%v), want %d", status, got, tt.wantStatus)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (answer %v)", k, got[k], v, got)
				}
			}
			if tt.wantErr != "" {
				if msg, _ := got["error"].(string); !strings.Contains(msg, tt.wantErr) {
					t.Errorf("error = %q, want it to contain %q", msg, tt.wantErr)
				}
			}
			dead, err := h.st.ListDeliveries(t.Context(), store.DeliveryFilter{State: store.Dead})
			if err != nil || len(dead) != tt.wantDead {
				t.Errorf("dead deliveries after = %d, %v; want %d", len(dead), err, tt.wantDead)
			}
		})
	}
}
