package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const adminToken = "s3cret-admin-token"

func TestLoginLogout(t *testing.T) {
	e, hot := fixture(t, map[string]string{"ADMIN_TOKEN": adminToken})

	r := e.get("/ui/calls?q=4567", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/login?next=%2Fui%2Fcalls%3Fq%3D4567" {
		t.Fatalf("without a session: %d to %q, want 303 to the login page", r.status, r.header.Get("Location"))
	}
	if r := e.get("/ui/login", nil); r.status != 200 || !strings.Contains(r.body, `type="password"`) || !strings.Contains(r.body, `<label for="token">`) {
		t.Fatalf("login page = %d, want a labelled password field", r.status)
	}
	r = e.do("POST", "/ui/login", url.Values{"token": {"wrong"}, "next": {"/ui/calls"}}, nil)
	if r.status != http.StatusUnauthorized || cookie(r.header, sessionCookie) != nil || strings.Contains(r.body, adminToken) {
		t.Fatalf("wrong token: %d, want 401 and no session", r.status)
	}
	r = e.do("POST", "/ui/login", url.Values{"token": {adminToken}, "next": {"/ui/calls?q=4567"}}, nil)
	session := cookie(r.header, sessionCookie)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/calls?q=4567" || session == nil {
		t.Fatalf("login: %d to %q, session %v; want 303 back to the calls", r.status, r.header.Get("Location"), session)
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.MaxAge != 12*3600 || session.Path != "/ui/" {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, 12h, not Secure over http", session)
	}
	if strings.Contains(session.Value, adminToken) {
		t.Errorf("the session cookie holds the token")
	}
	page := e.get("/ui/calls/12345", withCookies(session))
	if page.status != 200 || !strings.Contains(page.body, "Log out") {
		t.Fatalf("with a session: %d, want 200 and a logout button", page.status)
	}

	// The form token is tied to the session: another session's token is refused.
	other := e.do("POST", "/ui/login", url.Values{"token": {adminToken}}, nil)
	otherPage := e.get("/ui/calls/12345", withCookies(cookie(other.header, sessionCookie)))
	retry := "/ui/deliveries/" + itoa(hot[1]) + "/retry"
	if r := e.do("POST", retry, url.Values{"csrf": {csrfOf(t, otherPage.body)}}, withCookies(session)); r.status != http.StatusForbidden {
		t.Errorf("another session's form token: %d, want 403", r.status)
	}
	if s := e.state(hot[1]); s != "dead" {
		t.Fatalf("a refused form changed the delivery to %s", s)
	}
	if r := e.do("POST", retry, url.Values{"csrf": {csrfOf(t, page.body)}}, withCookies(session)); r.status != http.StatusSeeOther {
		t.Errorf("own form token: %d, want 303", r.status)
	}

	// A session survives a restart (a new Console with the same token) and ends when the token changes.
	e.console = New(Options{Store: e.store, Runtime: func() *Runtime { return e.rt }, Now: func() time.Time { return e.now }})
	e.srv.Config.Handler = e.console
	if r := e.get("/ui/", withCookies(session)); r.status != 200 {
		t.Errorf("after a restart: %d, want 200", r.status)
	}
	e.now = t0.Add(13 * time.Hour)
	if r := e.get("/ui/", withCookies(session)); r.status != http.StatusSeeOther {
		t.Errorf("after 13 hours: %d, want 303 to the login page", r.status)
	}
	e.now = t0

	r = e.do("POST", "/ui/logout", url.Values{"csrf": {csrfOf(t, page.body)}}, withCookies(session))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/login" {
		t.Fatalf("logout: %d to %q", r.status, r.header.Get("Location"))
	}
	if c := cookie(r.header, sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout did not clear the session cookie: %+v", c)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBearer(t *testing.T) {
	e, hot := fixture(t, map[string]string{"ADMIN_TOKEN": adminToken})
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if r := e.get("/ui/calls", bearer(adminToken)); r.status != 200 {
		t.Errorf("bearer: %d, want 200", r.status)
	}
	if r := e.get("/ui/calls", bearer("nope")); r.status != http.StatusUnauthorized {
		t.Errorf("wrong bearer: %d, want 401", r.status)
	}
	// No browser sends the header by itself: a bearer POST needs no form token.
	if r := e.do("POST", "/ui/calls/12345/retry", url.Values{}, bearer(adminToken)); r.status != http.StatusSeeOther {
		t.Errorf("bearer POST: %d, want 303", r.status)
	}
	if s := e.state(hot[1]); s != "pending" {
		t.Errorf("after a bearer retry the delivery is %s", s)
	}
	if r := e.do("POST", "/ui/calls/12345/retry", url.Values{}, nil); r.status != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", r.status)
	}
}

func TestSecureCookie(t *testing.T) {
	e, _ := fixture(t, map[string]string{"ADMIN_TOKEN": adminToken})
	e.console.opts.PublicURL = func() string { return "https://relay.example.com" }
	r := e.do("POST", "/ui/login", url.Values{"token": {adminToken}}, nil)
	if c := cookie(r.header, sessionCookie); c == nil || !c.Secure {
		t.Errorf("with an https public URL the session cookie is not Secure: %+v", c)
	}
}

func TestGuardWraps(t *testing.T) {
	e := newEnv(t, nil)
	called := 0
	e.srv.Config.Handler = New(Options{Store: e.store, Runtime: func() *Runtime { return e.rt }, Guard: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called++
			if r.Header.Get("Origin") != "" {
				http.Error(w, "cross-site", http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
		})
	}})
	if r := e.get("/ui/", nil); r.status != 200 {
		t.Errorf("guarded page: %d", r.status)
	}
	if r := e.get("/ui/static/console.css", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }); r.status != http.StatusForbidden {
		t.Errorf("the guard refused nothing: %d", r.status)
	}
	if called != 2 {
		t.Errorf("guard called %d times, want 2", called)
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"/ui/calls?q=1":           "/ui/calls?q=1",
		"https://evil.example/":   "/ui/",
		"//evil.example/ui/":      "/ui/",
		"/ui/\\evil":              "/ui/",
		"/api/calls":              "/ui/",
		"":                        "/ui/",
		"/ui/calls\r\nSet-Cookie": "/ui/",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
