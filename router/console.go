package router

import (
	"net/http"
	"net/url"

	"github.com/switchboard-relay/switchboard/ui"
)

// console returns the web console mounted at /ui/. The console checks the admin token itself (a
// login session or a bearer token); consoleGuard adds the admin surface's network rules.
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

// consoleGuard refuses a state-changing request sent from another site, and keeps the console to
// local, unproxied clients while no admin token is set, like the admin API. The shared admin guard
// replaces it once there is one.
func (r *Router) consoleGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead && crossSite(req) {
			http.Error(w, "a request from another site cannot change anything here", http.StatusForbidden)
			return
		}
		if r.opts.Runtime().Config.Server.AdminToken == "" &&
			(!isLoopback(req.RemoteAddr) || req.Header.Get("X-Forwarded-For") != "" || req.Header.Get("Forwarded") != "") {
			http.Error(w, "the console answers only to local, unproxied clients while server.admin_token is not set: set it to use the console remotely", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// crossSite reports whether a browser says the request comes from another site: Sec-Fetch-Site is
// cross-site or same-site, or Origin names another host and port than the request's Host.
func crossSite(req *http.Request) bool {
	switch req.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != req.Host
}
