package router

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConsoleMounted: /ui/ is served, under the admin surface's network rule.
func TestConsoleMounted(t *testing.T) {
	tests := []struct {
		name, admin, remote, forwarded, token string
		want                                  int
	}{
		{name: "no admin token, loopback", remote: "127.0.0.1:5555", want: http.StatusOK},
		{name: "no admin token, remote", remote: "203.0.113.5:1234", want: http.StatusForbidden},
		{name: "no admin token, through a proxy", remote: "127.0.0.1:5555", forwarded: "203.0.113.5", want: http.StatusForbidden},
		{name: "admin token, no session", admin: adminToken, remote: "203.0.113.5:1234", want: http.StatusSeeOther},
		{name: "admin token, bearer from afar", admin: adminToken, remote: "203.0.113.5:1234", token: adminToken, want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.admin, nil)
			req := httptest.NewRequest(http.MethodGet, "/ui/calls", nil)
			req.Host = "localhost:8080"
			req.RemoteAddr = tt.remote
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			h.router.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("GET /ui/calls = %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

// TestConsoleRefusesCrossSite: a form posted from another site is refused before the console sees it.
func TestConsoleRefusesCrossSite(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"own origin, no form token", map[string]string{"Origin": "http://localhost:8080", "Sec-Fetch-Site": "same-origin"}, http.StatusForbidden},
		{"script without origin, no form token", nil, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			req := httptest.NewRequest(http.MethodPost, "/ui/calls/1/retry", nil)
			req.Host = "localhost:8080"
			req.RemoteAddr = "127.0.0.1:5555"
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.router.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("POST = %d, want %d", rec.Code, tt.want)
			}
			cross := strings.Contains(rec.Body.String(), "cross-site request refused")
			if wantCross := tt.name != "own origin, no form token" && tt.name != "script without origin, no form token"; cross != wantCross {
				t.Errorf("refused as cross-site = %v, want %v (%s)", cross, wantCross, rec.Body)
			}
		})
	}
}
