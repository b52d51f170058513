package ui

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// bar is one hour of the calls chart.
type bar struct {
	X, Y, H int
	Count   int
	Label   string // "14:00–15:00 UTC: 12 calls"
	Link    string
}

// chart is the calls-per-hour chart, drawn as SVG on the server.
type chart struct {
	Width, Height, Base int
	Bars                []bar
	Max                 int
	// Ticks label the time axis every six hours, ending with "now".
	Ticks []string
}

const chartHeight = 120

func newChart(o *store.Overview) chart {
	ch := chart{Width: 24 * 20, Height: chartHeight + 1, Base: chartHeight}
	for _, n := range o.CallsPerHour {
		ch.Max = max(ch.Max, n)
	}
	for i, n := range o.CallsPerHour {
		from := o.Since.Add(time.Duration(i) * time.Hour)
		h := 0
		if ch.Max > 0 {
			h = n * (chartHeight - 4) / ch.Max
		}
		if n > 0 && h < 2 {
			h = 2
		}
		v := url.Values{"from": {formTime(from)}, "to": {formTime(from.Add(time.Hour))}}
		ch.Bars = append(ch.Bars, bar{
			X: i*20 + 2, Y: chartHeight - h, H: h, Count: n,
			Label: from.UTC().Format("15:04") + "–" + from.Add(time.Hour).UTC().Format("15:04") + " UTC: " + plural(n, "call", "calls"),
			Link:  "/ui/calls?" + v.Encode(),
		})
	}
	for h := 0; h < 24; h += 6 {
		ch.Ticks = append(ch.Ticks, o.Since.Add(time.Duration(h)*time.Hour).UTC().Format("15:04"))
	}
	ch.Ticks = append(ch.Ticks, "now (UTC)")
	return ch
}

// countLink is a number with the list behind it.
type countLink struct {
	Name  string
	Count int
	Link  string
}

// sinkRow is one sink's line on the overview and the sinks page.
type sinkRow struct {
	Name, Type, State string
	Configured        bool
	// Day counts the deliveries of the last day's calls by state, with links.
	Day []countLink
	// Queue is the store's queue now.
	Pending, Retrying, Dead int
	OldestPending           string // age, or ""
	QueueLink, DeadLink     string
	LastError, LastErrorAt  string
	lastErrorAt             time.Time
	// ChangedAt, ChangedAgo and ChangedBy tell when and by whom the state last changed ("" when it
	// never did); FailingSince and FailingFor since when every attempt fails.
	ChangedAt, ChangedAgo, ChangedBy string
	FailingSince, FailingFor         string
	// CanPause and CanResume show the buttons.
	CanPause, CanResume bool
}

type overviewData struct {
	Since       time.Time
	SinceParam  string
	Chart       chart
	Calls       countLink
	Unmatched   countLink
	Rules       []countLink
	Sinks       []sinkRow
	States      []store.State
	Dead        countLink
	NewestDead  []*store.Delivery
	CallsToday  string
	AnyDelivery bool
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, a access) {
	now := c.opts.Now().UTC()
	since := now.Truncate(time.Hour).Add(-23 * time.Hour)
	o, err := c.console.Overview(r.Context(), since)
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	stats, err := c.opts.Store.Stats(r.Context())
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	from := formTime(since)
	d := overviewData{
		Since: since, SinceParam: from, Chart: newChart(o), States: states, NewestDead: o.NewestDead,
		Calls:     countLink{Count: o.Calls, Link: "/ui/calls?" + url.Values{"from": {from}}.Encode()},
		Unmatched: countLink{Count: o.Unmatched, Link: "/ui/calls?" + url.Values{"from": {from}, "matched": {"no"}}.Encode()},
		Dead:      countLink{Count: o.Dead, Link: "/ui/deliveries?state=dead"},
	}
	rt := c.runtime()
	for _, rule := range rt.Config.Rules {
		d.Rules = append(d.Rules, countLink{Name: rule.Name, Count: o.RuleMatches[rule.Name],
			Link: "/ui/calls?" + url.Values{"from": {from}, "rule": {rule.Name}}.Encode()})
	}
	statuses, err := c.opts.Store.SinkStatuses(r.Context())
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	d.Sinks = c.sinkRows(stats, statuses, o.SinkStates, from, now)
	c.render(w, r, http.StatusOK, "overview", a, "Overview", d)
}

// sinkRows lists the configured sinks, then any other sink the store still holds deliveries for.
func (c *Console) sinkRows(stats []store.SinkStats, statuses []store.SinkStatus, day map[string]map[store.State]int, from string, now time.Time) []sinkRow {
	rt := c.runtime()
	byName := map[string]store.SinkStats{}
	for _, st := range stats {
		byName[st.Sink] = st
	}
	status := map[string]store.SinkStatus{}
	for _, st := range statuses {
		status[st.Sink] = st
	}
	var rows []sinkRow
	seen := map[string]bool{}
	add := func(name, typ string, configured bool) {
		seen[name] = true
		st := byName[name]
		row := sinkRow{Name: name, Type: typ, State: "active", Configured: configured,
			Pending: st.Pending, Retrying: st.Retrying, Dead: st.Dead,
			QueueLink: "/ui/deliveries?" + url.Values{"sink": {name}, "state": {"pending"}}.Encode(),
			DeadLink:  "/ui/deliveries?" + url.Values{"sink": {name}, "state": {"dead"}}.Encode()}
		if configured {
			c.sinkState(&row, status[name], now)
		} else {
			row.State = "not configured"
		}
		if !st.OldestPending.IsZero() {
			row.OldestPending = fmtDuration(now.Sub(st.OldestPending))
		}
		for _, s := range states {
			row.Day = append(row.Day, countLink{Name: string(s), Count: day[name][s],
				Link: "/ui/deliveries?" + url.Values{"sink": {name}, "state": {string(s)}, "from": {from}}.Encode()})
		}
		rows = append(rows, row)
	}
	for _, s := range rt.Config.Sinks {
		add(s.Name, s.Type, true)
	}
	var others []string
	for name := range day {
		if !seen[name] {
			others = append(others, name)
		}
	}
	for name := range byName {
		if !seen[name] && !slices.Contains(others, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	for _, name := range others {
		add(name, "—", false)
	}
	return rows
}
