package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cookie names and the session's life.
const (
	sessionCookie = "switchboard_session"
	csrfCookie    = "switchboard_csrf" // the double-submit cookie, without an admin token
	sessionTTL    = 12 * time.Hour
	csrfField     = "csrf"
)

// access is who a request is: whether it may see the console, and the form token it must send back.
type access struct {
	ok bool
	// session is the session's nonce (cookie login), or the double-submit cookie's value.
	session string
	// bearer is set when the request carried the admin token itself: no browser adds that header to a
	// forged request, so it needs no form token.
	bearer bool
	// loggedIn shows the logout button.
	loggedIn bool
}

// sessionKey derives the key that signs sessions from the admin token: sessions survive restarts and
// work on every replica, and changing the token ends them all.
func sessionKey(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("switchboard console session key v1"))
	return m.Sum(nil)
}

func sign(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Console) adminToken() string { return string(c.runtime().Config.Server.AdminToken) }

// newSession returns a session cookie value: nonce.expiry.signature.
func newSession(key []byte, now time.Time) string {
	nonce := randomToken()
	exp := strconv.FormatInt(now.Add(sessionTTL).Unix(), 10)
	return nonce + "." + exp + "." + sign(key, "session", nonce, exp)
}

// checkSession returns the nonce of a valid, unexpired session cookie value.
func checkSession(key []byte, v string, now time.Time) (string, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return "", false
	}
	want := sign(key, "session", parts[0], parts[1])
	if subtle.ConstantTimeCompare([]byte(want), []byte(parts[2])) != 1 {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() >= exp {
		return "", false
	}
	return parts[0], true
}

// who works out a request's access.
func (c *Console) who(r *http.Request) access {
	token := c.adminToken()
	if token == "" {
		// The Guard has already kept the console to loopback; forms use a double-submit cookie.
		a := access{ok: true}
		if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 16 {
			a.session = ck.Value
		}
		return a
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		got := strings.TrimSpace(h[7:])
		return access{ok: subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1, bearer: true}
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if nonce, ok := checkSession(sessionKey(token), ck.Value, c.opts.Now()); ok {
			return access{ok: true, session: nonce, loggedIn: true}
		}
	}
	return access{}
}

// formToken is the token a form must send back: tied to the session, or the double-submit cookie.
func (c *Console) formToken(a access) string {
	if a.session == "" {
		return ""
	}
	if token := c.adminToken(); token != "" {
		return sign(sessionKey(token), "csrf", a.session)
	}
	return a.session
}

// secure reports whether cookies must be Secure: the request came over https, or the public URL is.
func (c *Console) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return c.opts.PublicURL != nil && strings.HasPrefix(strings.ToLower(c.opts.PublicURL()), "https://")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure(r)})
}

// authed lets through only requests with access, sends others to the login page (or 401 for a
// POST), and checks the form token of every POST.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, access)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := c.who(r)
		if !a.ok {
			if a.bearer {
				w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard-admin"`)
				c.fail(w, r, http.StatusUnauthorized, "Wrong admin token.")
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.fail(w, r, http.StatusUnauthorized, "Log in first.")
			return
		}
		if c.adminToken() == "" && a.session == "" {
			// First visit: start the double-submit cookie that forms echo.
			a.session = randomToken()
			c.setCookie(w, r, csrfCookie, a.session, 0)
		}
		if r.Method == http.MethodPost && !a.bearer {
			want := c.formToken(a)
			got := r.PostFormValue(csrfField)
			if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				c.log.Warn("console: form refused: missing or wrong form token", "path", r.URL.Path)
				c.fail(w, r, http.StatusForbidden, "This form is out of date or was not sent from the console. Reload the page and try again.")
				return
			}
		}
		h(w, r, a)
	}
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.adminToken() == "" {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", access{}, "Log in", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

type loginData struct {
	Next  string
	Error string
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	token := c.adminToken()
	if token == "" {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	got := r.PostFormValue("token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
		c.log.Warn("console: login refused: wrong admin token")
		c.render(w, r, http.StatusUnauthorized, "login", access{}, "Log in", loginData{Next: next, Error: "That is not the admin token."})
		return
	}
	c.setCookie(w, r, sessionCookie, newSession(sessionKey(token), c.opts.Now()), int(sessionTTL/time.Second))
	c.log.Info("console: logged in")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, _ access) {
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext keeps a redirect target inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}
