package router

import (
	"net/http"

	"github.com/switchboard-relay/switchboard/ui"
)

// console returns the web console mounted at /ui/. The console checks the admin token itself (a
// login session or a bearer token); the admin guard adds every other rule of the admin surface
// (cross-site refusal, local requests only while no token is set).
func (r *Router) console() http.Handler {
	return ui.New(ui.Options{
		Store: r.opts.Store,
		Runtime: func() *ui.Runtime {
			rt := r.opts.Runtime()
			return &ui.Runtime{Config: rt.Config, Rules: rt.Rules}
		},
		Logger: r.log,
		Now:    r.opts.Now,
		Guard:  r.guard.WrapSession,
		PublicURL: func() string {
			return r.opts.Runtime().Config.Server.PublicURL
		},
		// The same path as POST /api/sinks/{name}/pause|resume: logged with who asked, announced, and
		// at once in the workers.
		SetSinkState: r.opts.SetSinkState,
	})
}
