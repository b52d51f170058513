// Package guard is the one access check of Switchboard's admin surface: the admin API (/api/*),
// /-/reload, the Go profiles (/debug/pprof/*) and the web console (/ui/). Every admin handler is
// wrapped with the same Guard:
//
//	g := guard.New(guard.Options{Token: func() string { return adminToken }})
//	mux.Handle("POST /api/deliveries/{id}/retry", g.Wrap(retry))
//
// A request passes when all of these hold, checked in this order:
//
//  1. It is not a cross-site state-changing request. A POST, PUT, PATCH or DELETE is refused (403)
//     when its Sec-Fetch-Site is "cross-site" or "same-site", or when it has an Origin whose host and
//     port are neither the request's Host nor those of a configured public URL ("null" included). The
//     scheme is not compared: behind a TLS-terminating proxy it differs legitimately. A request with
//     neither header (curl, scripts) is not cross-site. This holds with or without an admin token,
//     so a web page the operator happens to open can never replay deliveries or reload the config.
//  2. With an admin token configured: it carries "Authorization: Bearer <token>" (compared in
//     constant time), else 401 with WWW-Authenticate.
//  3. Without an admin token: it is local, else 403. Local means the Host header names localhost or
//     a loopback address (any port; this defeats DNS rebinding, where a hostile name resolves to
//     127.0.0.1), the client's address is loopback, and the request carries none of the proxy headers
//     X-Forwarded-For, Forwarded, X-Real-IP, X-Forwarded-Host and X-Forwarded-Proto (behind a reverse
//     proxy on the same host every client would look local).
//
// A refusal is answered as JSON, {"error": "…"}. A handler that renders its own pages (the web
// console) may call Check and render the Refusal itself.
package guard

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Options configure a Guard. Every function is called per request, so a config reload takes effect
// at once.
type Options struct {
	// Token returns the admin token in force (server.admin_token); "" means none, and then only local
	// requests pass. Nil means none.
	Token func() string
	// PublicURLs returns the URLs under which the server is reached from outside (server.public_url,
	// such as "https://relay.example.com"). An Origin with the host and port of one of them is the
	// server's own origin. Nil means none.
	PublicURLs func() []string
	// Logger receives one line per refused request; nil discards them.
	Logger *slog.Logger
}

// Guard checks admin requests. It is safe for concurrent use.
type Guard struct {
	opts Options
	log  *slog.Logger
}

// New returns a Guard.
func New(opts Options) *Guard {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Guard{opts: opts, log: log}
}

// Refusal is why a request was refused: the HTTP status to answer (401 or 403) and a message for the
// client. It never contains a secret.
type Refusal struct {
	Status  int
	Message string
	// Reason is a short fixed word for logs and metrics: "cross_site", "unauthorized", "not_local_host",
	// "not_local_client" or "proxied".
	Reason string
}

// Error implements error.
func (r *Refusal) Error() string { return r.Message }

// Write answers the refusal as JSON {"error": message}, with WWW-Authenticate on a 401.
func (r *Refusal) Write(w http.ResponseWriter) {
	if r.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard-admin"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(r.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"error": r.Message}) // an error means the client went away
}

// Wrap returns h guarded: a request that Check refuses is answered with its Refusal (as JSON) and
// never reaches h.
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if ref := g.Check(req); ref != nil {
			ref.Write(w)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// WrapFunc is Wrap for a handler function.
func (g *Guard) WrapFunc(h http.HandlerFunc) http.Handler { return g.Wrap(h) }

// WrapSession is Wrap for a handler that authenticates requests itself when an admin token is set
// (the web console's login session): it applies every rule but the bearer token check.
func (g *Guard) WrapSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if ref := g.logged(req, g.check(req, false)); ref != nil {
			ref.Write(w)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// Check applies every rule of the package documentation to req and returns nil when it may pass, or
// why not. It logs each refusal.
func (g *Guard) Check(req *http.Request) *Refusal {
	return g.logged(req, g.check(req, true))
}

// logged logs ref, a refusal of req, and returns it; nil passes through.
func (g *Guard) logged(req *http.Request, ref *Refusal) *Refusal {
	if ref != nil {
		g.log.Warn("admin request refused", "reason", ref.Reason, "status", ref.Status, "method", req.Method,
			"path", req.URL.Path, "remote", req.RemoteAddr)
	}
	return ref
}

// check applies the rules to req; withToken false leaves the token check, when a token is set, to
// the handler.
func (g *Guard) check(req *http.Request, withToken bool) *Refusal {
	if ref := g.CheckCrossSite(req); ref != nil {
		return ref
	}
	token := ""
	if g.opts.Token != nil {
		token = g.opts.Token()
	}
	if token != "" {
		if withToken && !TokenMatches(Bearer(req), token) {
			return &Refusal{Status: http.StatusUnauthorized, Reason: "unauthorized",
				Message: "missing or wrong admin token: send Authorization: Bearer <server.admin_token>"}
		}
		return nil
	}
	const unset = " while server.admin_token is not set: set it to use the admin routes from elsewhere"
	switch {
	case !IsLocalHost(req.Host):
		return &Refusal{Status: http.StatusForbidden, Reason: "not_local_host",
			Message: "admin routes answer only to requests addressed to localhost or a loopback address" + unset}
	case !isLoopbackAddr(req.RemoteAddr):
		return &Refusal{Status: http.StatusForbidden, Reason: "not_local_client",
			Message: "admin routes answer only to clients on this machine" + unset}
	case HasProxyHeaders(req):
		return &Refusal{Status: http.StatusForbidden, Reason: "proxied",
			Message: "admin routes do not answer requests forwarded by a proxy" + unset}
	}
	return nil
}

// CheckCrossSite applies rule 1 alone: it refuses a state-changing request (see StateChanging) that
// a browser sent from another site, and returns nil for any other request. A handler that accepts
// requests without the rest of the guard must still call it before changing anything.
func (g *Guard) CheckCrossSite(req *http.Request) *Refusal {
	if !StateChanging(req.Method) {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(req.Header.Get("Sec-Fetch-Site"))) {
	case "cross-site", "same-site":
		return crossSite("its Sec-Fetch-Site says it comes from another site")
	}
	origin, ok := req.Header["Origin"]
	if !ok || len(origin) == 0 {
		return nil
	}
	if len(origin) != 1 || !g.sameOrigin(origin[0], req.Host) {
		return crossSite("its Origin is not this server")
	}
	return nil
}

func crossSite(why string) *Refusal {
	return &Refusal{Status: http.StatusForbidden, Reason: "cross_site",
		Message: "cross-site request refused: " + why + "; a state-changing admin request must come from this server's own pages or from a client that sends no Origin"}
}

// StateChanging reports whether method may change state: POST, PUT, PATCH and DELETE (and any
// method other than GET, HEAD, OPTIONS and TRACE, to be safe).
func StateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// sameOrigin reports whether the Origin header value names the host and port of host (the request's
// Host header) or of a configured public URL. The scheme is ignored.
func (g *Guard) sameOrigin(origin, host string) bool {
	u, err := url.Parse(strings.TrimSpace(origin))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false // "null" and anything unparsable
	}
	oHost, oPort := u.Hostname(), effectivePort(u.Scheme, u.Port())
	if matchesHost(oHost, oPort, host) {
		return true
	}
	if g.opts.PublicURLs != nil {
		for _, pub := range g.opts.PublicURLs() {
			p, err := url.Parse(pub)
			if err != nil || p.Host == "" {
				continue
			}
			if strings.EqualFold(oHost, p.Hostname()) && oPort == effectivePort(p.Scheme, p.Port()) {
				return true
			}
		}
	}
	return false
}

// matchesHost compares an origin's host and effective port with a Host header. A Host without a
// port matches an origin on its scheme's default port (80 or 443), whichever scheme the client used.
func matchesHost(oHost, oPort, hostHeader string) bool {
	h := &url.URL{Host: hostHeader}
	if hostHeader == "" || !strings.EqualFold(oHost, h.Hostname()) {
		return false
	}
	if p := h.Port(); p != "" {
		return p == oPort
	}
	return oPort == "80" || oPort == "443"
}

// effectivePort is port, or the default port of scheme when port is empty.
func effectivePort(scheme, port string) string {
	if port != "" {
		return port
	}
	switch strings.ToLower(scheme) {
	case "https", "wss":
		return "443"
	case "http", "ws":
		return "80"
	}
	return ""
}

// IsLocalHost reports whether a Host header value names localhost or a loopback address, with any
// port.
func IsLocalHost(hostHeader string) bool {
	if hostHeader == "" {
		return false
	}
	h := (&url.URL{Host: hostHeader}).Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ProxyHeaders are the headers whose presence marks a request as forwarded by a proxy.
var ProxyHeaders = []string{"X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Proto"}

// HasProxyHeaders reports whether req carries any of ProxyHeaders, even empty.
func HasProxyHeaders(req *http.Request) bool {
	for _, name := range ProxyHeaders {
		if _, ok := req.Header[http.CanonicalHeaderKey(name)]; ok {
			return true
		}
	}
	return false
}

func isLoopbackAddr(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Bearer returns the token of an "Authorization: Bearer <token>" header, or "".
func Bearer(req *http.Request) string {
	h := req.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// TokenMatches compares a token sent with the expected one in constant time (for equal lengths; the
// length itself is not secret enough to matter). An empty want never matches.
func TokenMatches(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
