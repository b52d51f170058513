package router

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-relay/switchboard/store"
)

// TestAdminAnswersValidJSON stores calls and deliveries whose bytes are not valid UTF-8 (or not JSON
// at all) and checks that every admin answer showing them is valid UTF-8 and valid JSON.
func TestAdminAnswersValidJSON(t *testing.T) {
	tests := []struct {
		name        string
		raw         string // the call as stored
		message     string // the delivery's stored message
		lastError   string
		wantPayload any // the payload as decoded from the answer
	}{
		{name: "invalid UTF-8 inside a string", raw: "{\"id\":41,\"status\":\"completed\",\"note\":\"\xff\xfe\"}",
			message: "{\"text\":\"hi \xff\"}", lastError: "receiver said \xff\xfe",
			wantPayload: map[string]any{"id": float64(41), "status": "completed", "note": "\uFFFD"}},
		{name: "not JSON at all", raw: "\xff\xfe{not json", message: "\x00\xff", lastError: "\xc3",
			wantPayload: "\uFFFD{not json"},
		{name: "valid", raw: `{"id":43,"status":"completed","emoji":"☎"}`, message: `{"text":"ok"}`, lastError: "",
			wantPayload: map[string]any{"id": float64(43), "status": "completed", "emoji": "☎"}},
	}
	h := newHarness(t, adminToken, nil)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := int64(41 + i)
			ds, err := h.st.Ingest(context.Background(), &store.Call{ID: id, ReceivedAt: time.Now(), Status: "completed", Raw: []byte(tt.raw)},
				[]store.NewDelivery{{Rule: "hot", Sink: "chat", Message: []byte(tt.message), Dead: true, Reason: "template", Error: tt.lastError}})
			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			for _, path := range []string{
				"/api/calls/" + strconv.FormatInt(id, 10),
				"/api/deliveries/" + strconv.FormatInt(ds[0], 10),
				"/api/deliveries?call_id=" + strconv.FormatInt(id, 10),
				"/api/calls",
			} {
				body := h.getRaw(path)
				if !utf8.Valid(body) || !json.Valid(body) {
					t.Errorf("GET %s: answer %q is not valid UTF-8 JSON", path, body)
				}
			}
			var got struct {
				Call struct {
					Payload any `json:"payload"`
				} `json:"call"`
			}
			if err := json.Unmarshal(h.getRaw("/api/calls/"+strconv.FormatInt(id, 10)), &got); err != nil {
				t.Fatal(err)
			}
			if a, b := mustJSON(t, got.Call.Payload), mustJSON(t, tt.wantPayload); a != b {
				t.Errorf("payload = %s, want %s", a, b)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// getRaw GETs path with the admin token and returns the answer's bytes, failing unless it is 200.
func (h *harness) getRaw(path string) []byte {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: status %d %q, err %v", path, resp.StatusCode, b, err)
	}
	return b
}
