package router

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// SinkView is a configured sink as GET /api/sinks (and `switchboard sinks`) shows it.
type SinkView struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	State store.SinkState `json:"state"`
	// Pending counts deliveries waiting (never attempted or waiting for a retry), InFlight those
	// being sent, Dead the dead letters.
	Pending  int `json:"pending"`
	InFlight int `json:"in_flight"`
	Dead     int `json:"dead"`
	// OldestPendingSeconds is the age of the oldest waiting delivery, from when it was queued (or
	// its sink last became active); 0 when none waits.
	OldestPendingSeconds float64    `json:"oldest_pending_age_seconds"`
	LastError            string     `json:"last_error,omitempty"`
	LastErrorAt          *time.Time `json:"last_error_at,omitempty"`
	FailingSince         *time.Time `json:"failing_since,omitempty"`
	ChangedAt            *time.Time `json:"state_changed_at,omitempty"`
	ChangedBy            string     `json:"state_changed_by,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// SinkViews returns every configured sink with its state and queue, in config order. The CLI's
// `switchboard sinks` shows the same.
func SinkViews(ctx context.Context, st store.Store, names, types []string, now time.Time) ([]SinkView, error) {
	stats, err := st.Stats(ctx)
	if err != nil {
		return nil, err
	}
	states, err := st.SinkStatuses(ctx)
	if err != nil {
		return nil, err
	}
	byStats := map[string]store.SinkStats{}
	for _, s := range stats {
		byStats[s.Sink] = s
	}
	byState := map[string]store.SinkStatus{}
	for _, s := range states {
		byState[s.Sink] = s
	}
	out := make([]SinkView, 0, len(names))
	for i, name := range names {
		q, ss := byStats[name], byState[name]
		v := SinkView{Name: name, Type: types[i], State: store.SinkActive,
			Pending: q.Pending + q.Retrying - q.InFlight, InFlight: q.InFlight, Dead: q.Dead,
			LastError: validText(ss.LastError), LastErrorAt: timePtr(ss.LastErrorAt),
			FailingSince: timePtr(ss.FailingSince), ChangedAt: timePtr(ss.ChangedAt), ChangedBy: ss.ChangedBy}
		if ss.State.Valid() {
			v.State = ss.State
		}
		if !q.OldestPending.IsZero() {
			v.OldestPendingSeconds = max(0, now.Sub(q.OldestPending).Seconds())
		}
		out = append(out, v)
	}
	return out, nil
}

func (r *Router) listSinks(w http.ResponseWriter, req *http.Request) {
	cfg := r.opts.Runtime().Config
	var names, types []string
	for _, s := range cfg.Sinks {
		names, types = append(names, s.Name), append(types, s.Type)
	}
	views, err := SinkViews(req.Context(), r.opts.Store, names, types, r.opts.Now())
	if err != nil {
		r.log.Warn("list sinks", "err", err)
		storeError(w, err, "sink")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sinks": views})
}

func (r *Router) pauseSink(w http.ResponseWriter, req *http.Request) {
	r.setSinkState(w, req, store.SinkPaused)
}

func (r *Router) resumeSink(w http.ResponseWriter, req *http.Request) {
	r.setSinkState(w, req, store.SinkActive)
}

func (r *Router) setSinkState(w http.ResponseWriter, req *http.Request, to store.SinkState) {
	name := req.PathValue("name")
	if r.opts.Runtime().Config.Sink(name) == nil {
		writeError(w, http.StatusNotFound, "sink "+quote(name)+" is not configured")
		return
	}
	by := "api " + req.RemoteAddr
	var ch store.SinkChange
	var err error
	if r.opts.SetSinkState != nil {
		ch, err = r.opts.SetSinkState(req.Context(), name, to, by)
	} else {
		ch, err = r.opts.Store.SetSinkState(req.Context(), name, to, by, r.opts.Now())
		if err == nil && ch.Changed() {
			r.log.Warn("sink state changed", "sink", name, "from", ch.From, "to", ch.To, "by", by)
		}
	}
	if err != nil {
		r.log.Warn("change sink state", "sink", name, "err", err)
		storeError(w, err, "sink")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sink": name, "state": ch.To, "previous": ch.From, "changed": ch.Changed()})
}

func quote(s string) string { return "\"" + s + "\"" }
