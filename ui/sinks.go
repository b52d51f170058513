package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

type sinksData struct {
	Sinks []sinkRow
	// Back is where a pause or resume returns to.
	Back string
}

func (c *Console) sinks(w http.ResponseWriter, r *http.Request, a access) {
	stats, err := c.opts.Store.Stats(r.Context())
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	statuses, err := c.opts.Store.SinkStatuses(r.Context())
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	rows := c.sinkRows(stats, statuses, nil, "", c.opts.Now())
	for i := range rows {
		// The newest deliveries that failed tell the last error when it is newer than the sink's own
		// record (which keeps retryable failures only: a 400 that killed a delivery is not there).
		ds, err := c.console.SearchDeliveries(r.Context(), store.DeliveryQuery{Sink: rows[i].Name, Limit: 20})
		if err != nil {
			c.storeFailed(w, r, err)
			return
		}
		for _, d := range ds {
			if d.LastError != "" {
				if d.UpdatedAt.After(rows[i].lastErrorAt) {
					rows[i].LastError, rows[i].LastErrorAt = c.maskText(d.LastError), fmtTime(d.UpdatedAt)
				}
				break
			}
		}
	}
	c.render(w, r, http.StatusOK, "sinks", a, "Sinks", sinksData{Sinks: rows, Back: "/ui/sinks"})
}

// setSinkState changes a sink's state: through Options.SetSinkState (the dispatcher's, which logs
// the change, announces it and wakes the sink's worker) or, without one, in the store.
func (c *Console) setSinkState(ctx context.Context, sink string, to store.SinkState, by string) (store.SinkChange, error) {
	if c.opts.SetSinkState != nil {
		return c.opts.SetSinkState(ctx, sink, to, by)
	}
	ch, err := c.opts.Store.SetSinkState(ctx, sink, to, by, c.opts.Now())
	if err == nil && ch.Changed() {
		c.log.Warn("sink state changed", "sink", sink, "from", ch.From, "to", ch.To, "by", by)
	}
	return ch, err
}

func (c *Console) pauseSink(w http.ResponseWriter, r *http.Request, a access) {
	c.changeSink(w, r, store.SinkPaused)
}

func (c *Console) resumeSink(w http.ResponseWriter, r *http.Request, a access) {
	c.changeSink(w, r, store.SinkActive)
}

// changeSink pauses or resumes the sink named in the path, on behalf of "ui <client address>", then
// returns to the page the form was on.
func (c *Console) changeSink(w http.ResponseWriter, r *http.Request, to store.SinkState) {
	name := r.PathValue("name")
	if c.runtime().Config.Sink(name) == nil {
		c.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no configured sink %q.", name))
		return
	}
	ch, err := c.setSinkState(r.Context(), name, to, "ui "+r.RemoteAddr)
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	back := safeNext(r.PostFormValue("back"))
	u, err := url.Parse(back)
	if err != nil {
		u = &url.URL{Path: Prefix}
	}
	q := u.Query()
	q.Set("sink", name)
	q.Set("sink_state", string(ch.To))
	if !ch.Changed() {
		q.Set("unchanged", "1")
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String()+"#sink-"+name, http.StatusSeeOther)
}

// sinkFlash is the message after a pause or resume: built from a configured sink's name and a known
// state only, never from other text of the URL.
func (c *Console) sinkFlash(q url.Values) string {
	name, state := q.Get("sink"), store.SinkState(q.Get("sink_state"))
	if q.Get("sink_state") == "" || c.runtime().Config.Sink(name) == nil || !state.Valid() {
		return ""
	}
	if q.Get("unchanged") != "" {
		return fmt.Sprintf("Sink %s was already %s.", name, state)
	}
	switch state {
	case store.SinkPaused:
		return fmt.Sprintf("Sink %s paused: its deliveries wait, without aging, until it is resumed.", name)
	case store.SinkActive:
		return fmt.Sprintf("Sink %s resumed: its waiting deliveries are sent now, oldest first.", name)
	}
	return fmt.Sprintf("Sink %s is %s.", name, state)
}

// sinkState fills a row's state from the sink's stored status.
func (c *Console) sinkState(row *sinkRow, st store.SinkStatus, now time.Time) {
	if st.State.Valid() {
		row.State = string(st.State)
	}
	if !st.ChangedAt.IsZero() {
		row.ChangedAt = fmtTime(st.ChangedAt)
		row.ChangedAgo = fmtAge(now.Sub(st.ChangedAt))
		row.ChangedBy = st.ChangedBy
	}
	if !st.FailingSince.IsZero() {
		row.FailingSince = fmtTime(st.FailingSince)
		row.FailingFor = fmtAge(now.Sub(st.FailingSince))
	}
	if st.LastError != "" {
		row.LastError, row.LastErrorAt, row.lastErrorAt = c.maskText(st.LastError), fmtTime(st.LastErrorAt), st.LastErrorAt
	}
	row.CanPause = row.Configured && row.State != string(store.SinkPaused)
	row.CanResume = row.Configured && row.State != string(store.SinkActive)
}

// fmtAge is how long ago something happened, to the second: a person reads "3m 05s", not "3m 05.2s"
// or "60ms".
func fmtAge(d time.Duration) string {
	if d < time.Second {
		return "less than 1s"
	}
	if d < 48*time.Hour {
		return fmtSeconds(int64(d / time.Second))
	}
	return fmtDuration(d)
}
