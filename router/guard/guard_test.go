package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// adminToken is a test value, not a secret of any real system.
const adminToken = "admin-token-5678"

func TestGuard(t *testing.T) {
	tests := []struct {
		name    string
		token   string // server.admin_token
		public  []string
		method  string
		host    string
		remote  string
		headers map[string]string
		want    int // status: 200 passed
		reason  string
	}{
		// Without an admin token: local only.
		{name: "local GET", host: "127.0.0.1:8080", want: 200},
		{name: "local POST without Origin (curl)", method: "POST", host: "127.0.0.1:8080", want: 200},
		{name: "localhost any port", host: "localhost:9999", want: 200},
		{name: "LOCALHOST without port", host: "LOCALHOST", want: 200},
		{name: "loopback v6 host and client", host: "[::1]:8080", remote: "[::1]:5555", want: 200},
		{name: "other loopback address", host: "127.0.0.2:8080", want: 200},
		{name: "DNS rebinding: hostile Host", host: "attacker.example:8080", want: 403, reason: "not_local_host"},
		{name: "hostile Host without port", host: "attacker.example", want: 403, reason: "not_local_host"},
		{name: "sub-domain of localhost is not localhost", host: "evil.localhost:8080", want: 403, reason: "not_local_host"},
		{name: "empty Host", host: "", want: 403, reason: "not_local_host"},
		{name: "remote client", remote: "203.0.113.5:1234", want: 403, reason: "not_local_client"},
		{name: "remote client with a token", remote: "203.0.113.5:1234", headers: map[string]string{"Authorization": "Bearer guess"}, want: 403, reason: "not_local_client"},
		{name: "X-Forwarded-For", headers: map[string]string{"X-Forwarded-For": "203.0.113.5"}, want: 403, reason: "proxied"},
		{name: "Forwarded", headers: map[string]string{"Forwarded": "for=203.0.113.5"}, want: 403, reason: "proxied"},
		{name: "X-Real-IP alone", headers: map[string]string{"X-Real-IP": "1.2.3.4"}, want: 403, reason: "proxied"},
		{name: "X-Forwarded-Host", headers: map[string]string{"X-Forwarded-Host": "relay.example.com"}, want: 403, reason: "proxied"},
		{name: "X-Forwarded-Proto", headers: map[string]string{"X-Forwarded-Proto": "https"}, want: 403, reason: "proxied"},
		{name: "empty proxy header counts", headers: map[string]string{"X-Real-IP": ""}, want: 403, reason: "proxied"},

		// Cross-site state-changing requests, without a token.
		{name: "POST from another origin", method: "POST", headers: map[string]string{"Origin": "https://evil.example"}, want: 403, reason: "cross_site"},
		{name: "PUT from another origin", method: "PUT", headers: map[string]string{"Origin": "https://evil.example"}, want: 403, reason: "cross_site"},
		{name: "PATCH from another origin", method: "PATCH", headers: map[string]string{"Origin": "https://evil.example"}, want: 403, reason: "cross_site"},
		{name: "DELETE from another origin", method: "DELETE", headers: map[string]string{"Origin": "https://evil.example"}, want: 403, reason: "cross_site"},
		{name: "POST with Origin null", method: "POST", headers: map[string]string{"Origin": "null"}, want: 403, reason: "cross_site"},
		{name: "POST from localhost on another port", method: "POST", headers: map[string]string{"Origin": "http://127.0.0.1:3000"}, want: 403, reason: "cross_site"},
		{name: "POST from localhost by another name", method: "POST", headers: map[string]string{"Origin": "http://localhost:8080"}, want: 403, reason: "cross_site"},
		{name: "POST Sec-Fetch-Site cross-site", method: "POST", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 403, reason: "cross_site"},
		{name: "POST Sec-Fetch-Site same-site", method: "POST", headers: map[string]string{"Sec-Fetch-Site": "same-site"}, want: 403, reason: "cross_site"},
		{name: "POST same origin passes", method: "POST", headers: map[string]string{"Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-origin"}, want: 200},
		{name: "POST same origin, other scheme passes", method: "POST", headers: map[string]string{"Origin": "https://127.0.0.1:8080"}, want: 200},
		{name: "POST Sec-Fetch-Site none (typed by the user)", method: "POST", headers: map[string]string{"Sec-Fetch-Site": "none"}, want: 200},
		{name: "POST same origin but cross-site Sec-Fetch-Site", method: "POST", headers: map[string]string{"Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "cross-site"}, want: 403, reason: "cross_site"},
		{name: "GET from another origin is not state-changing", headers: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, want: 200},

		// With an admin token.
		{name: "token: right one", token: adminToken, remote: "203.0.113.5:1234", host: "relay.example.com", headers: map[string]string{"Authorization": "Bearer " + adminToken}, want: 200},
		{name: "token: right one through a proxy", token: adminToken, host: "relay.example.com", headers: map[string]string{"Authorization": "bearer " + adminToken, "X-Forwarded-For": "203.0.113.5", "X-Real-IP": "203.0.113.5"}, want: 200},
		{name: "token: none sent", token: adminToken, want: 401, reason: "unauthorized"},
		{name: "token: wrong one", token: adminToken, headers: map[string]string{"Authorization": "Bearer nope"}, want: 401, reason: "unauthorized"},
		{name: "token: cross-site POST refused even with the token", token: adminToken, method: "POST", host: "relay.example.com",
			headers: map[string]string{"Authorization": "Bearer " + adminToken, "Origin": "https://evil.example"}, want: 403, reason: "cross_site"},
		{name: "token: same-site POST refused even with the token", token: adminToken, method: "DELETE", host: "relay.example.com",
			headers: map[string]string{"Authorization": "Bearer " + adminToken, "Sec-Fetch-Site": "same-site"}, want: 403, reason: "cross_site"},
		{name: "token: cross-site check before the token check", token: adminToken, method: "POST", headers: map[string]string{"Origin": "https://evil.example"}, want: 403, reason: "cross_site"},
		{name: "token: same origin behind TLS proxy (Host without port)", token: adminToken, method: "POST", host: "relay.example.com",
			headers: map[string]string{"Authorization": "Bearer " + adminToken, "Origin": "https://relay.example.com", "X-Forwarded-Proto": "https"}, want: 200},
		{name: "token: origin matching the public URL", token: adminToken, method: "POST", host: "10.0.0.7:8080", public: []string{"https://relay.example.com/"},
			headers: map[string]string{"Authorization": "Bearer " + adminToken, "Origin": "https://relay.example.com"}, want: 200},
		{name: "token: public URL port must match", token: adminToken, method: "POST", host: "10.0.0.7:8080", public: []string{"https://relay.example.com"},
			headers: map[string]string{"Authorization": "Bearer " + adminToken, "Origin": "https://relay.example.com:8443"}, want: 403, reason: "cross_site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(Options{
				Token:      func() string { return tt.token },
				PublicURLs: func() []string { return tt.public },
			})
			reached := false
			h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				reached = true
				w.WriteHeader(http.StatusOK)
			}))
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, "/api/deliveries/3/retry", nil)
			req.Host = tt.host
			if tt.host == "" && tt.reason != "not_local_host" {
				req.Host = "127.0.0.1:8080"
			}
			req.RemoteAddr = tt.remote
			if req.RemoteAddr == "" {
				req.RemoteAddr = "127.0.0.1:5555"
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tt.want, rec.Body)
			}
			if reached != (tt.want == http.StatusOK) {
				t.Errorf("handler reached = %v, want %v", reached, tt.want == http.StatusOK)
			}
			if tt.want == http.StatusOK {
				return
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == "" {
				t.Errorf("body %q: want a JSON object with an error (%v)", rec.Body, err)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := rec.Header().Get("WWW-Authenticate") != ""; got != (tt.want == http.StatusUnauthorized) {
				t.Errorf("WWW-Authenticate present = %v, want %v", got, tt.want == http.StatusUnauthorized)
			}
			if ref := g.Check(req); ref == nil || ref.Reason != tt.reason {
				t.Errorf("Check = %+v, want reason %q", ref, tt.reason)
			}
		})
	}
}

func TestTokenMatches(t *testing.T) {
	tests := []struct {
		name      string
		got, want string
		match     bool
	}{
		{name: "equal", got: "abc", want: "abc", match: true},
		{name: "different", got: "abd", want: "abc"},
		{name: "prefix", got: "ab", want: "abc"},
		{name: "empty want never matches", got: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenMatches(tt.got, tt.want); got != tt.match {
				t.Errorf("TokenMatches(%q, %q) = %v, want %v", tt.got, tt.want, got, tt.match)
			}
		})
	}
}

func TestStateChanging(t *testing.T) {
	for method, want := range map[string]bool{
		"GET": false, "HEAD": false, "OPTIONS": false, "TRACE": false,
		"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "PROPFIND": true,
	} {
		t.Run(method, func(t *testing.T) {
			if got := StateChanging(method); got != want {
				t.Errorf("StateChanging(%q) = %v, want %v", method, got, want)
			}
		})
	}
}

// TestWrapSession: the console's wrapper leaves the token to the console, and keeps every other rule.
func TestWrapSession(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		method  string
		host    string
		remote  string
		headers map[string]string
		want    int
	}{
		{name: "token set, no bearer: left to the handler", token: adminToken, host: "relay.example.com", remote: "203.0.113.5:1234", want: 200},
		{name: "token set, cross-site POST", token: adminToken, method: "POST", host: "relay.example.com",
			headers: map[string]string{"Origin": "https://evil.example"}, want: 403},
		{name: "token set, same-site fetch POST", token: adminToken, method: "POST", host: "relay.example.com",
			headers: map[string]string{"Sec-Fetch-Site": "same-site"}, want: 403},
		{name: "no token, local", host: "localhost:8080", want: 200},
		{name: "no token, hostile Host", host: "attacker.example", want: 403},
		{name: "no token, proxied", host: "localhost:8080", headers: map[string]string{"X-Real-IP": "1.2.3.4"}, want: 403},
		{name: "no token, remote client", host: "localhost:8080", remote: "203.0.113.5:1234", want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(Options{Token: func() string { return tt.token }})
			h := g.WrapSession(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
			req := httptest.NewRequest(cmpOr(tt.method, "GET"), "/ui/", nil)
			req.Host = tt.host
			req.RemoteAddr = cmpOr(tt.remote, "127.0.0.1:5555")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
