package router

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
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

// TestConsolePauseResume: the console's Pause and Resume buttons go through Options.SetSinkState
// (the dispatcher's, as POST /api/sinks/{name}/pause does) on behalf of "ui <client address>"; the
// same form posted cross-site is refused by the admin guard and changes nothing.
func TestConsolePauseResume(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	var h *harness
	h = newHarnessWith(t, "", func(o *Options) {
		o.SetSinkState = func(ctx context.Context, sink string, to store.SinkState, by string) (store.SinkChange, error) {
			mu.Lock()
			asked = append(asked, sink+" "+string(to)+" "+by)
			mu.Unlock()
			return h.st.SetSinkState(ctx, sink, to, by, time.Now())
		}
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(h.srv.URL + "/ui/sinks")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET /ui/sinks = %d without a form token", resp.StatusCode)
	}
	var csrf *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "switchboard_csrf" {
			csrf = c
		}
	}
	if csrf == nil {
		t.Fatal("GET /ui/sinks set no double-submit cookie")
	}
	chatState := func() store.SinkState {
		all, err := h.st.SinkStatuses(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			if s.Sink == "chat" {
				return s.State
			}
		}
		return store.SinkActive
	}
	steps := []struct {
		name, path, origin string
		want               int
		state              store.SinkState
	}{
		{"pause from another site", "/ui/sinks/chat/pause", "https://evil.example", http.StatusForbidden, store.SinkActive},
		{"pause", "/ui/sinks/chat/pause", h.srv.URL, http.StatusSeeOther, store.SinkPaused},
		{"resume from another site", "/ui/sinks/chat/resume", "https://evil.example", http.StatusForbidden, store.SinkPaused},
		{"resume", "/ui/sinks/chat/resume", h.srv.URL, http.StatusSeeOther, store.SinkActive},
	}
	for _, s := range steps {
		form := url.Values{"csrf": {string(m[1])}, "back": {"/ui/sinks"}}
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+s.path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.origin)
		req.AddCookie(csrf)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != s.want {
			t.Errorf("%s: %d, want %d", s.name, resp.StatusCode, s.want)
		}
		if got := chatState(); got != s.state {
			t.Errorf("%s: chat is %s, want %s", s.name, got, s.state)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 || !strings.HasPrefix(asked[0], "chat paused ui 127.0.0.1:") || !strings.HasPrefix(asked[1], "chat active ui 127.0.0.1:") {
		t.Errorf("SetSinkState was asked %q, want a pause then a resume by \"ui 127.0.0.1:<port>\"", asked)
	}
}
