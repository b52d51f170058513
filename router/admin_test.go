package router

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

func TestAdminAccess(t *testing.T) {
	tests := []struct {
		name       string
		admin      string // server.admin_token
		remote     string // RemoteAddr of the request
		token      string // bearer token sent
		forwarded  string // X-Forwarded-For sent, as by a reverse proxy
		wantStatus int
	}{
		{name: "no admin token, loopback", remote: "127.0.0.1:5555", wantStatus: http.StatusOK},
		{name: "no admin token, loopback v6", remote: "[::1]:5555", wantStatus: http.StatusOK},
		{name: "no admin token, remote", remote: "203.0.113.5:1234", wantStatus: http.StatusForbidden},
		{name: "no admin token, remote with a token", remote: "203.0.113.5:1234", token: "guess", wantStatus: http.StatusForbidden},
		{name: "no admin token, loopback through a proxy", remote: "127.0.0.1:5555", forwarded: "203.0.113.5", wantStatus: http.StatusForbidden},
		{name: "admin token, right one through a proxy", admin: adminToken, remote: "127.0.0.1:5555", forwarded: "203.0.113.5", token: adminToken, wantStatus: http.StatusOK},
		{name: "admin token, none sent", admin: adminToken, remote: "127.0.0.1:5555", wantStatus: http.StatusUnauthorized},
		{name: "admin token, wrong one", admin: adminToken, remote: "203.0.113.5:1234", token: "nope", wantStatus: http.StatusUnauthorized},
		{name: "admin token, ingest token is not it", admin: adminToken, remote: "127.0.0.1:5555", token: ingestToken, wantStatus: http.StatusUnauthorized},
		{name: "admin token, right one from afar", admin: adminToken, remote: "203.0.113.5:1234", token: adminToken, wantStatus: http.StatusOK},
	}
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/calls"},
		{http.MethodGet, "/api/deliveries?state=dead"},
		{http.MethodPost, "/-/reload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.admin, func() error { return nil })
			for _, rt := range routes {
				req := httptest.NewRequest(rt.method, rt.path, nil)
				req.Host = "127.0.0.1:8080"
				req.RemoteAddr = tt.remote
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				if tt.forwarded != "" {
					req.Header.Set("X-Forwarded-For", tt.forwarded)
				}
				rec := httptest.NewRecorder()
				h.router.ServeHTTP(rec, req)
				if rec.Code != tt.wantStatus {
					t.Errorf("%s %s: status = %d, want %d (body %s)", rt.method, rt.path, rec.Code, tt.wantStatus, rec.Body)
				}
				if tt.wantStatus == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: 401 without WWW-Authenticate", rt.method, rt.path)
				}
			}
		})
	}
}

// TestEveryAdminRouteGuarded sends the reproduced attacks to every admin route: without an admin token,
// a DNS-rebinding Host, a forwarded request and (for state-changing routes) a cross-site Origin are
// refused before the handler runs.
func TestEveryAdminRouteGuarded(t *testing.T) {
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/calls"},
		{http.MethodGet, "/api/calls/1"},
		{http.MethodGet, "/api/deliveries"},
		{http.MethodGet, "/api/deliveries/1"},
		{http.MethodPost, "/api/deliveries/1/retry"},
		{http.MethodPost, "/api/deliveries/retry"},
		{http.MethodPost, "/api/calls/1/retry"},
		{http.MethodGet, "/api/sinks"},
		{http.MethodPost, "/api/sinks/chat/pause"},
		{http.MethodPost, "/api/sinks/chat/resume"},
		{http.MethodPost, "/-/reload"},
		{http.MethodGet, "/debug/pprof/"},
		{http.MethodGet, "/debug/pprof/cmdline"},
		{http.MethodGet, "/debug/pprof/profile?seconds=1"},
		{http.MethodGet, "/debug/pprof/symbol"},
		{http.MethodGet, "/debug/pprof/trace?seconds=1"},
	}
	attacks := []struct {
		name    string
		host    string
		headers map[string]string
		onlyFor string // "POST": only state-changing routes
	}{
		{name: "DNS rebinding", host: "attacker.example:8080"},
		{name: "X-Real-IP", host: "127.0.0.1:8080", headers: map[string]string{"X-Real-IP": "1.2.3.4"}},
		{name: "X-Forwarded-Host", host: "127.0.0.1:8080", headers: map[string]string{"X-Forwarded-Host": "relay.example.com"}},
		{name: "cross-site Origin", host: "127.0.0.1:8080", headers: map[string]string{"Origin": "https://evil.example"}, onlyFor: http.MethodPost},
		{name: "Sec-Fetch-Site cross-site", host: "127.0.0.1:8080", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, onlyFor: http.MethodPost},
	}
	h := newHarness(t, "", func() error { t.Error("reload ran for a refused request"); return nil })
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			for _, rt := range routes {
				if a.onlyFor != "" && rt.method != a.onlyFor {
					continue
				}
				req := httptest.NewRequest(rt.method, rt.path, nil)
				req.Host, req.RemoteAddr = a.host, "127.0.0.1:5555"
				for k, v := range a.headers {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.router.ServeHTTP(rec, req)
				if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"error"`) {
					t.Errorf("%s %s: status %d body %s, want 403 with an error", rt.method, rt.path, rec.Code, rec.Body)
				}
			}
		})
	}
	t.Run("the router exposes its guard", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/ui/anything", nil)
		req.Host, req.RemoteAddr = "127.0.0.1:8080", "127.0.0.1:5555"
		req.Header.Set("Origin", "https://evil.example")
		if ref := h.router.Guard().Check(req); ref == nil || ref.Status != http.StatusForbidden {
			t.Errorf("Guard().Check = %+v, want a 403 refusal", ref)
		}
	})
}

// finishAttempt claims the delivery of sink and records one attempt with outcome state.
func finishAttempt(t *testing.T, st store.Store, sink string, state store.State, reason, msg string) *store.Delivery {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	ds, err := st.Claim(ctx, sink, "test-owner", 1, time.Minute, now)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim %s: got %d deliveries, err %v; want 1", sink, len(ds), err)
	}
	result := "success"
	if state == store.Dead {
		result = "permanent"
	} else if state == store.Pending {
		result = "retry"
	}
	o := store.Outcome{State: state, NextAttemptAt: now.Add(time.Hour), Attempt: store.Attempt{
		DeliveryID: ds[0].ID, Number: ds[0].Attempts, StartedAt: now, Duration: 3 * time.Millisecond,
		Result: result, StatusCode: 502, Reason: reason, Error: msg,
	}}
	if err := st.Finish(ctx, ds[0].ID, "test-owner", o); err != nil {
		t.Fatalf("finish: %v", err)
	}
	return ds[0]
}

func TestAdminReads(t *testing.T) {
	h := newHarness(t, adminToken, nil)
	for _, body := range []string{
		`{"id": 11, "status": "completed", "lead": {"bonus": 1}}`,
		`{"id": 12, "status": "failed"}`,
		`{"id": 13, "status": "busy"}`,
	} {
		if status, resp := h.post(body); status != http.StatusAccepted {
			t.Fatalf("post %s: status %d (%v)", body, status, resp)
		}
	}
	// Call 11's crm delivery fails once (retry), then for good: two attempts in its history.
	finishAttempt(t, h.st, "crm", store.Pending, "server_error", "receiver answered 502 Bad Gateway")
	if _, err := h.st.Requeue(context.Background(), store.Selector{DeliveryID: h.deliveries(11)[1].ID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	finishAttempt(t, h.st, "crm", store.Dead, "client_error", "receiver answered 400 Bad Request")

	t.Run("list calls newest first", func(t *testing.T) {
		status, body := h.do(http.MethodGet, "/api/calls", adminToken, nil)
		calls, _ := body["calls"].([]any)
		if status != http.StatusOK || len(calls) != 3 {
			t.Fatalf("status %d, %d calls, want 200 and 3 (body %v)", status, len(calls), body)
		}
		for i, want := range []float64{13, 12, 11} {
			if got := calls[i].(map[string]any)["id"]; got != want {
				t.Errorf("calls[%d].id = %v, want %v", i, got, want)
			}
		}
		if _, ok := calls[0].(map[string]any)["payload"]; ok {
			t.Errorf("the call list carries payloads; want them only on /api/calls/{id}")
		}
	})
	t.Run("list calls paged", func(t *testing.T) {
		_, body := h.do(http.MethodGet, "/api/calls?limit=1&before=13", adminToken, nil)
		calls, _ := body["calls"].([]any)
		if len(calls) != 1 || calls[0].(map[string]any)["id"] != float64(12) {
			t.Errorf("calls = %v, want only call 12", calls)
		}
	})
	t.Run("one call with deliveries and history", func(t *testing.T) {
		status, body := h.do(http.MethodGet, "/api/calls/11", adminToken, nil)
		if status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (%v)", status, body)
		}
		c := body["call"].(map[string]any)
		if c["id"] != float64(11) || c["status"] != "completed" || c["payload"] == nil {
			t.Errorf("call = %v, want id 11, status completed, with its payload", c)
		}
		if m, _ := c["matched"].([]any); len(m) != 1 || m[0] != "hot" {
			t.Errorf("matched = %v, want [hot]", c["matched"])
		}
		ds, _ := body["deliveries"].([]any)
		if len(ds) != 2 {
			t.Fatalf("deliveries = %d, want 2", len(ds))
		}
		crm := ds[1].(map[string]any)
		if crm["sink"] != "crm" || crm["state"] != "dead" || crm["last_reason"] != "client_error" || crm["last_status"] != float64(502) {
			t.Errorf("crm delivery = %v, want dead with reason client_error and status 502", crm)
		}
		hist, _ := crm["history"].([]any)
		if len(hist) != 2 {
			t.Fatalf("history = %v, want 2 attempts", crm["history"])
		}
		for i, want := range []string{"retry", "permanent"} {
			a := hist[i].(map[string]any)
			if a["result"] != want {
				t.Errorf("history[%d].result = %v, want %q", i, a["result"], want)
			}
		}
		if chat := ds[0].(map[string]any); chat["state"] != "pending" || chat["next_attempt_at"] == nil || chat["history"] != nil {
			t.Errorf("chat delivery = %v, want pending with next_attempt_at and no history", chat)
		}
	})
	t.Run("dead deliveries", func(t *testing.T) {
		status, body := h.do(http.MethodGet, "/api/deliveries?state=dead", adminToken, nil)
		ds, _ := body["deliveries"].([]any)
		if status != http.StatusOK || len(ds) != 1 {
			t.Fatalf("status %d, deliveries %v, want 200 and 1 dead", status, body)
		}
		if d := ds[0].(map[string]any); d["call_id"] != float64(11) || d["sink"] != "crm" {
			t.Errorf("dead delivery = %v, want call 11's crm delivery", d)
		}
	})
	t.Run("deliveries by sink", func(t *testing.T) {
		_, body := h.do(http.MethodGet, "/api/deliveries?sink=chat&state=pending", adminToken, nil)
		if ds, _ := body["deliveries"].([]any); len(ds) != 2 {
			t.Errorf("pending chat deliveries = %d, want 2 (calls 11 and 12)", len(ds))
		}
	})
	t.Run("one delivery", func(t *testing.T) {
		id := h.deliveries(11)[1].ID
		status, body := h.do(http.MethodGet, "/api/deliveries/"+strconv.FormatInt(id, 10), adminToken, nil)
		if status != http.StatusOK || body["id"] != float64(id) {
			t.Fatalf("status %d body %v, want 200 with delivery %d", status, body, id)
		}
		if hist, _ := body["history"].([]any); len(hist) != 2 {
			t.Errorf("history = %v, want 2 attempts", body["history"])
		}
	})
}

func TestAdminBadRequests(t *testing.T) {
	h := newHarness(t, adminToken, nil)
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantError  string
	}{
		{"limit not a number", http.MethodGet, "/api/calls?limit=ten", http.StatusBadRequest, "limit must be a non-negative integer"},
		{"limit too large", http.MethodGet, "/api/deliveries?limit=100000000", http.StatusBadRequest, "limit must be at most 1000: page with before= or after="},
		{"before negative", http.MethodGet, "/api/calls?before=-1", http.StatusBadRequest, `before must be the next_before of the previous page ("received_at,id") or a call id`},
		{"before not a cursor", http.MethodGet, "/api/calls?before=yesterday,3", http.StatusBadRequest, `before must be the next_before of the previous page ("received_at,id") or a call id`},
		{"before a missing call", http.MethodGet, "/api/calls?before=999", http.StatusNotFound, "call not found"},
		{"unknown state", http.MethodGet, "/api/deliveries?state=lost", http.StatusBadRequest, `state must be one of "pending", "in_flight", "delivered", "dead"`},
		{"after not a number", http.MethodGet, "/api/deliveries?after=x", http.StatusBadRequest, "after must be a non-negative integer"},
		{"call_id not a number", http.MethodGet, "/api/deliveries?call_id=x", http.StatusBadRequest, "call_id must be a non-negative integer"},
		{"call id not a number", http.MethodGet, "/api/calls/abc", http.StatusBadRequest, "id must be a positive integer"},
		{"call id zero", http.MethodGet, "/api/calls/0", http.StatusBadRequest, "id must be a positive integer"},
		{"call not found", http.MethodGet, "/api/calls/999", http.StatusNotFound, "call not found"},
		{"delivery not found", http.MethodGet, "/api/deliveries/999", http.StatusNotFound, "delivery not found"},
		{"retry of a missing delivery", http.MethodPost, "/api/deliveries/999/retry", http.StatusNotFound, "delivery not found"},
		{"retry with a bad id", http.MethodPost, "/api/deliveries/x/retry", http.StatusBadRequest, "id must be a positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.do(tt.method, tt.path, adminToken, nil)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %v)", status, tt.wantStatus, body)
			}
			if body["error"] != tt.wantError {
				t.Errorf("error = %q, want %q", body["error"], tt.wantError)
			}
		})
	}
}

func TestAdminRetry(t *testing.T) {
	h := newHarness(t, adminToken, nil)
	// Call 21's crm action cannot render: it is stored dead with reason template.
	if status, body := h.post(`{"id": 21, "status": "completed"}`); status != http.StatusAccepted {
		t.Fatalf("post: status %d (%v)", status, body)
	}
	dead := h.deliveries(21)[1]
	if dead.State != store.Dead {
		t.Fatalf("delivery state = %q, want dead", dead.State)
	}
	tests := []struct {
		name         string
		path         string
		wantRequeued float64
	}{
		{"dead delivery requeued", "/api/deliveries/" + strconv.FormatInt(dead.ID, 10) + "/retry", 1},
		{"already pending counts again", "/api/deliveries/" + strconv.FormatInt(dead.ID, 10) + "/retry", 1},
		{"call with nothing dead", "/api/calls/21/retry", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.do(http.MethodPost, tt.path, adminToken, nil)
			if status != http.StatusOK || body["requeued"] != tt.wantRequeued {
				t.Errorf("status %d body %v, want 200 with requeued %v", status, body, tt.wantRequeued)
			}
		})
	}
	d, err := h.st.GetDelivery(context.Background(), dead.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != store.Pending || d.Attempts != 0 {
		t.Errorf("after retry: state %q attempts %d, want pending with 0 attempts", d.State, d.Attempts)
	}
}

func TestAdminStorageUnavailable(t *testing.T) {
	h := newHarness(t, adminToken, nil)
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/calls", "/api/calls/1", "/api/deliveries"} {
		status, body := h.do(http.MethodGet, path, adminToken, nil)
		if status != http.StatusServiceUnavailable {
			t.Errorf("GET %s: status = %d, want 503 (body %v)", path, status, body)
		}
	}
	if _, err := h.st.GetCall(context.Background(), 1); !errors.Is(err, store.ErrClosed) {
		t.Errorf("closed store: err = %v, want ErrClosed", err)
	}
}
