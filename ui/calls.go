package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-relay/switchboard/store"
)

// callRow is one line of the calls list.
type callRow struct {
	ID         int64
	ReceivedAt string
	ISO        string
	Customer   string
	Status     string
	Duration   string
	Matched    []string
	Deliveries string
	// Dead marks a call with dead deliveries.
	Dead bool
}

type callsData struct {
	Filters  callFilters
	Rules    []string
	Rows     []callRow
	Next     string // query of the next page; "" on the last
	First    string // query of the first page when not on it
	Filtered bool
}

// deliveriesSummary words a call's deliveries, e.g. "2 delivered, 1 dead".
func deliveriesSummary(m map[store.State]int) string {
	var parts []string
	for _, s := range states {
		if n := m[s]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+string(s))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.ReplaceAll(strings.Join(parts, ", "), "in_flight", "in flight")
}

func (c *Console) calls(w http.ResponseWriter, r *http.Request, a access) {
	f := parseCallFilters(r.URL.Query())
	d := callsData{Filters: f}
	for _, rule := range c.runtime().Config.Rules {
		d.Rules = append(d.Rules, rule.Name)
	}
	v := f.values()
	d.Filtered = len(v) > 0
	if len(f.Problems) > 0 {
		c.render(w, r, http.StatusBadRequest, "calls", a, "Calls", d)
		return
	}
	cs, err := c.console.SearchCalls(r.Context(), f.query)
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	for _, cl := range cs {
		d.Rows = append(d.Rows, callRow{
			ID: cl.ID, ReceivedAt: fmtTime(cl.ReceivedAt), ISO: cl.ReceivedAt.UTC().Format("2006-01-02T15:04:05Z"),
			Customer: c.showPhone(cl.CustomerPhone), Status: cl.Status, Duration: fmtSeconds(cl.Duration),
			Matched: cl.Matched, Deliveries: deliveriesSummary(cl.Deliveries), Dead: cl.Deliveries[store.Dead] > 0,
		})
	}
	if len(cs) == pageSize {
		last := cs[len(cs)-1]
		nv := f.values()
		nv.Set("before", cursor(last.ReceivedAt, last.ID))
		d.Next = "/ui/calls?" + nv.Encode()
	}
	if !f.query.BeforeTime.IsZero() {
		d.First = "/ui/calls"
		if len(v) > 0 {
			d.First += "?" + v.Encode()
		}
	}
	c.render(w, r, http.StatusOK, "calls", a, "Calls", d)
}
