package ui

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// pageSize is how many rows a list shows.
const pageSize = 50

// timeInput is the format of a datetime-local input; the console's times are UTC.
const timeInput = "2006-01-02T15:04"

// parseTime reads a from/to value: a datetime-local value or RFC 3339.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{timeInput, "2006-01-02T15:04:05", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// formTime formats t for a datetime-local input.
func formTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeInput)
}

// callFilters are the calls page's filters as the form shows them.
type callFilters struct {
	Q, Status, Rule, Matched, From, To string
	query                              store.CallQuery
	Problems                           []string
}

func parseCallFilters(v url.Values) callFilters {
	f := callFilters{
		Q: strings.TrimSpace(v.Get("q")), Status: strings.TrimSpace(v.Get("status")), Rule: v.Get("rule"),
		Matched: v.Get("matched"), From: v.Get("from"), To: v.Get("to"),
	}
	f.query = store.CallQuery{Q: f.Q, Status: f.Status, Rule: f.Rule, Limit: pageSize}
	if f.Q != "" && store.QueryDigits(f.Q) == "" {
		f.Problems = append(f.Problems, "Search by a call id or the last digits of a phone number (3 or more).")
	}
	switch f.Matched {
	case "", "yes", "no":
		f.query.Matched = store.Matched(f.Matched)
	default:
		f.Problems = append(f.Problems, `"matched" must be yes or no.`)
	}
	var ok bool
	if f.query.From, ok = parseTime(f.From); !ok {
		f.Problems = append(f.Problems, `"from" must be a date and time such as 2026-01-31T09:00.`)
	}
	if f.query.To, ok = parseTime(f.To); !ok {
		f.Problems = append(f.Problems, `"to" must be a date and time such as 2026-01-31T18:00.`)
	}
	if b := v.Get("before"); b != "" {
		if t, id, ok := parseCursor(b); ok {
			f.query.BeforeTime, f.query.BeforeID = t, id
		} else {
			f.Problems = append(f.Problems, `"before" is not a page cursor: start again from the first page.`)
		}
	}
	return f
}

// values returns the filters as a query string, without paging.
func (f callFilters) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "status": f.Status, "rule": f.Rule, "matched": f.Matched, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// cursor is a calls page cursor: the received time in unix nanoseconds and the id of the last call.
func cursor(t time.Time, id int64) string {
	return strconv.FormatInt(t.UnixNano(), 10) + "-" + strconv.FormatInt(id, 10)
}

func parseCursor(s string) (time.Time, int64, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return time.Time{}, 0, false
	}
	ns, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || ns <= 0 {
		return time.Time{}, 0, false
	}
	return time.Unix(0, ns).UTC(), id, true
}

// deliveryFilters are the deliveries page's filters as the form shows them.
type deliveryFilters struct {
	State, Sink, Rule, Reason, From, To, Call string
	query                                     store.DeliveryQuery
	Problems                                  []string
}

// states are the delivery states in the order the console lists them.
var states = []store.State{store.Pending, store.InFlight, store.Delivered, store.Dead}

func parseDeliveryFilters(v url.Values) deliveryFilters {
	f := deliveryFilters{State: v.Get("state"), Sink: v.Get("sink"), Rule: v.Get("rule"), Reason: v.Get("reason"),
		From: v.Get("from"), To: v.Get("to"), Call: v.Get("call")}
	f.query = store.DeliveryQuery{State: store.State(f.State), Sink: f.Sink, Rule: f.Rule, Reason: f.Reason, Limit: pageSize}
	if f.State != "" && !slices.Contains(states, store.State(f.State)) {
		f.Problems = append(f.Problems, `"state" must be pending, in_flight, delivered or dead.`)
	}
	if f.Reason != "" && !slices.Contains(sinks.Reasons, sinks.Reason(f.Reason)) {
		f.Problems = append(f.Problems, `"reason" is not a known reason.`)
	}
	var ok bool
	if f.query.From, ok = parseTime(f.From); !ok {
		f.Problems = append(f.Problems, `"from" must be a date and time such as 2026-01-31T09:00.`)
	}
	if f.query.To, ok = parseTime(f.To); !ok {
		f.Problems = append(f.Problems, `"to" must be a date and time such as 2026-01-31T18:00.`)
	}
	if f.Call != "" {
		id, err := strconv.ParseInt(f.Call, 10, 64)
		if err != nil || id <= 0 {
			f.Problems = append(f.Problems, `"call" must be a call id.`)
		}
		f.query.CallID = id
	}
	if b := v.Get("before"); b != "" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil || id <= 0 {
			f.Problems = append(f.Problems, `"before" must be a delivery id.`)
		}
		f.query.BeforeID = id
	}
	return f
}

func (f deliveryFilters) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "sink": f.Sink, "rule": f.Rule, "reason": f.Reason, "from": f.From, "to": f.To, "call": f.Call} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}
