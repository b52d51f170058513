package router

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// Paging /api/calls: calls are listed newest first by the time they were received, then by id. Each
// full page carries next_before, the cursor of its last call, written "received_at,id" (RFC 3339
// with nanoseconds in UTC, a comma, the call id); before= takes it back. before= also takes a plain
// call id, meaning "the calls older than that one".

// formatCursor writes a call's place in the list as before= takes it.
func formatCursor(c store.CallCursor) string {
	return c.ReceivedAt.UTC().Format(time.RFC3339Nano) + "," + strconv.FormatInt(c.ID, 10)
}

// parseCursor reads before=: empty for the newest calls, a cursor, or a call id (then the call's own
// place, found in the store: a call that does not exist is 404). It answers the request itself and
// returns false when before= is not usable.
func (r *Router) parseCursor(w http.ResponseWriter, req *http.Request, s string) (store.CallCursor, bool) {
	if s == "" || s == "0" { // 0 was "from the newest" before cursors
		return store.CallCursor{}, true
	}
	const form = `before must be the next_before of the previous page ("received_at,id") or a call id`
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		if id < 0 {
			writeError(w, http.StatusBadRequest, form)
			return store.CallCursor{}, false
		}
		c, err := r.opts.Store.GetCall(req.Context(), id)
		if err != nil {
			storeError(w, err, "call")
			return store.CallCursor{}, false
		}
		return c.Cursor(), true
	}
	at, id, ok := strings.Cut(s, ",")
	t, terr := time.Parse(time.RFC3339Nano, at)
	n, nerr := strconv.ParseInt(id, 10, 64)
	if !ok || terr != nil || nerr != nil || n < 0 {
		writeError(w, http.StatusBadRequest, form)
		return store.CallCursor{}, false
	}
	return store.CallCursor{ReceivedAt: t, ID: n}, true
}
