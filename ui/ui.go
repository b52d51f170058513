// Package ui is Switchboard's web console under /ui/: what happened to each call (what came in, what
// the rules decided and why, what was sent) and what to do about it (retry), rendered on the server
// with html/template. Reading needs no JavaScript; every change is a form that POSTs and redirects.
//
// Access: the handler is wrapped by Options.Guard (the admin surface's network checks) and itself
// requires, when server.admin_token is set, a session cookie from /ui/login or an
// "Authorization: Bearer" header. Every form that changes state carries a token tied to the session
// (or, without an admin token, to a double-submit cookie); a POST without it gets 403.
package ui

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/store"
)

// Runtime is the configuration in force: the console shows its rules and sinks and explains calls
// with its rules.
type Runtime struct {
	Config *config.Config
	Rules  *rules.Ruleset
}

// Options configure the console. Store and Runtime are required.
type Options struct {
	// Store holds the calls and answers the console's searches (store.Console).
	Store store.Store
	// Runtime returns the configuration in force.
	Runtime func() *Runtime
	// Logger receives the console's actions (retries, logins); nil discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Guard wraps every console request: the admin surface's checks of the network (cross-site
	// requests refused, loopback only without an admin token). Nil adds none.
	Guard func(http.Handler) http.Handler
	// PublicURL returns server.public_url when configured, to mark the session cookie Secure when it
	// is https; nil or "" means unknown.
	PublicURL func() string
	// SetSinkState pauses or resumes a sink on behalf of by (the dispatcher's, so that the change is
	// logged, announced and reaches the workers at once, as through the API); nil changes it in Store
	// and logs it.
	SetSinkState func(ctx context.Context, sink string, to store.SinkState, by string) (store.SinkChange, error)
}

// Prefix is where the console is mounted.
const Prefix = "/ui/"

// Console serves the web console. Create it with New.
type Console struct {
	opts     Options
	log      *slog.Logger
	console  store.Console // opts.Store, for the searches
	mux      *http.ServeMux
	handler  http.Handler
	previews previewCache
}

// New returns the console's handler, to mount at Prefix.
func New(opts Options) *Console {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Console{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	c.console = opts.Store
	c.routes()
	var h http.Handler = http.HandlerFunc(c.serve)
	if opts.Guard != nil {
		h = opts.Guard(h)
	}
	c.handler = h
	return c
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

func (c *Console) routes() {
	m := c.mux
	m.HandleFunc("GET /ui/static/console.css", serveCSS)
	m.HandleFunc("GET /ui/static/icon.svg", serveIcon)
	m.HandleFunc("GET /ui/login", c.loginPage)
	m.HandleFunc("POST /ui/login", c.login)
	m.HandleFunc("POST /ui/logout", c.authed(c.logout))
	m.HandleFunc("GET /ui/{$}", c.authed(c.overview))
	m.HandleFunc("GET /ui/calls", c.authed(c.calls))
	m.HandleFunc("GET /ui/calls/{id}", c.authed(c.call))
	m.HandleFunc("GET /ui/calls/{id}/raw", c.authed(c.rawCall))
	m.HandleFunc("POST /ui/calls/{id}/retry", c.authed(c.retryCall))
	m.HandleFunc("GET /ui/deliveries", c.authed(c.deliveries))
	m.HandleFunc("GET /ui/deliveries/retry", c.authed(c.confirmRetry))
	m.HandleFunc("POST /ui/deliveries/retry", c.authed(c.retryMatching))
	m.HandleFunc("POST /ui/deliveries/{id}/retry", c.authed(c.retryDelivery))
	m.HandleFunc("GET /ui/sinks", c.authed(c.sinks))
	m.HandleFunc("POST /ui/sinks/{name}/pause", c.authed(c.pauseSink))
	m.HandleFunc("POST /ui/sinks/{name}/resume", c.authed(c.resumeSink))
	m.HandleFunc("GET /ui/rules", c.authed(c.rules))
	m.HandleFunc("POST /ui/rules/try", c.authed(c.tryPayload))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "There is no such page.")
	})
}

// securityHeaders are set on every answer: no inline script or style, no framing, nothing cached.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// maxForm bounds a posted form (a pasted payload is the largest).
const maxForm = 5 << 20

func (c *Console) serve(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	}
	c.mux.ServeHTTP(w, r)
}

// runtime returns the configuration in force.
func (c *Console) runtime() *Runtime { return c.opts.Runtime() }
