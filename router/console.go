package router

import (
	"net/http"

	"github.com/switchboard-relay/switchboard/ui"
)

// console returns the web console mounted at /ui/. The console checks the admin token itself (a
// login session or a bearer token); consoleGuard adds the admin surface's network rule.
func (r *Router) console() http.Handler {
	return ui.New(ui.Options{
		Store: r.opts.Store,
		Runtime: func() *ui.Runtime {
			rt := r.opts.Runtime()
			return &ui.Runtime{Config: rt.Config, Rules: rt.Rules}
		},
		Logger: r.log,
		Now:    r.opts.Now,
		Guard:  r.consoleGuard,
	})
}

// consoleGuard keeps the console to local, unproxied clients while no admin token is set, like the
// admin API. The integrator replaces it with the shared admin guard (cross-site refusal included).
func (r *Router) consoleGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.opts.Runtime().Config.Server.AdminToken == "" &&
			(!isLoopback(req.RemoteAddr) || req.Header.Get("X-Forwarded-For") != "" || req.Header.Get("Forwarded") != "") {
			http.Error(w, "the console answers only to local, unproxied clients while server.admin_token is not set: set it to use the console remotely", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, req)
	})
}
