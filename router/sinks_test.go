package router

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// sinkByName finds one sink in a GET /api/sinks answer.
func sinkByName(t *testing.T, body map[string]any, name string) map[string]any {
	t.Helper()
	list, ok := body["sinks"].([]any)
	if !ok {
		t.Fatalf("GET /api/sinks body %v has no sinks list", body)
	}
	for _, v := range list {
		if s, ok := v.(map[string]any); ok && s["name"] == name {
			return s
		}
	}
	t.Fatalf("GET /api/sinks: no sink %q in %v", name, list)
	return nil
}

// TestSinksAPI: GET /api/sinks shows each configured sink with its state and queue; pause and resume
// change the stored state, say who asked, and answer 404 JSON for a sink that is not configured.
func TestSinksAPI(t *testing.T) {
	h := newHarness(t, adminToken, nil)
	// A hot call queues one delivery to chat and one dead (its template failed) to crm.
	if code, body := h.post(`{"id": 1, "status": "completed"}`); code != http.StatusAccepted && code != http.StatusOK {
		t.Fatalf("webhook: %d %v", code, body)
	}
	if _, err := h.st.SinkFailed(context.Background(), "chat", "unexpected status 503", time.Hour, time.Now()); err != nil {
		t.Fatalf("record failure: %v", err)
	}

	code, body := h.do(http.MethodGet, "/api/sinks", adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/sinks: %d %v", code, body)
	}
	chat, crm := sinkByName(t, body, "chat"), sinkByName(t, body, "crm")
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"chat type", chat["type"], "log"},
		{"chat state", chat["state"], "active"},
		{"chat pending", chat["pending"], 1.0},
		{"chat in flight", chat["in_flight"], 0.0},
		{"chat dead", chat["dead"], 0.0},
		{"chat last error", chat["last_error"], "unexpected status 503"},
		{"crm dead", crm["dead"], 1.0},
		{"crm pending", crm["pending"], 0.0},
		{"crm oldest pending age", crm["oldest_pending_age_seconds"], 0.0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if age, _ := chat["oldest_pending_age_seconds"].(float64); age < 0 {
		t.Errorf("chat oldest pending age = %v, want >= 0", chat["oldest_pending_age_seconds"])
	}
	if chat["last_error_at"] == nil || chat["failing_since"] == nil {
		t.Errorf("chat = %v, want last_error_at and failing_since", chat)
	}

	steps := []struct {
		name      string
		path      string
		wantCode  int
		wantState string
		changed   bool
	}{
		{"pause", "/api/sinks/chat/pause", http.StatusOK, "paused", true},
		{"pause again", "/api/sinks/chat/pause", http.StatusOK, "paused", false},
		{"resume", "/api/sinks/chat/resume", http.StatusOK, "active", true},
		{"pause another", "/api/sinks/crm/pause", http.StatusOK, "paused", true},
		{"unknown sink", "/api/sinks/nope/pause", http.StatusNotFound, "", false},
		{"unknown sink resume", "/api/sinks/nope/resume", http.StatusNotFound, "", false},
	}
	for _, s := range steps {
		code, body := h.do(http.MethodPost, s.path, adminToken, nil)
		if code != s.wantCode {
			t.Fatalf("%s: status %d %v, want %d", s.name, code, body, s.wantCode)
		}
		if s.wantCode != http.StatusOK {
			if body["error"] == nil {
				t.Errorf("%s: body %v, want an error", s.name, body)
			}
			continue
		}
		if body["state"] != s.wantState || body["changed"] != s.changed {
			t.Errorf("%s: body %v, want state %s, changed %v", s.name, body, s.wantState, s.changed)
		}
	}
	_, body = h.do(http.MethodGet, "/api/sinks", adminToken, nil)
	crm = sinkByName(t, body, "crm")
	if crm["state"] != "paused" || crm["state_changed_by"] == nil {
		t.Errorf("crm after pause = %v, want paused with who asked", crm)
	}
	statuses, err := h.st.SinkStatuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range statuses {
		if st.Sink == "crm" && (st.State != store.SinkPaused || len(st.ChangedBy) < len("api 1") || st.ChangedBy[:4] != "api ") {
			t.Errorf("stored crm state = %+v, want paused by \"api <client address>\"", st)
		}
	}
}
