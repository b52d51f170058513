package router

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// callView is a call as the admin API shows it.
type callView struct {
	ID         int64           `json:"id"`
	ReceivedAt time.Time       `json:"received_at"`
	Status     string          `json:"status"`
	Matched    []string        `json:"matched"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// deliveryView is a delivery as the admin API shows it.
type deliveryView struct {
	ID            int64           `json:"id"`
	CallID        int64           `json:"call_id"`
	Rule          string          `json:"rule"`
	Action        int             `json:"action"`
	Sink          string          `json:"sink"`
	State         store.State     `json:"state"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	ReceivedAt    time.Time       `json:"received_at"`
	QueuedAt      time.Time       `json:"queued_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	LastError     string          `json:"last_error,omitempty"`
	LastReason    string          `json:"last_reason,omitempty"`
	LastStatus    int             `json:"last_status,omitempty"`
	Message       json.RawMessage `json:"message,omitempty"`
	History       []attemptView   `json:"history,omitempty"`
}

type attemptView struct {
	Number     int       `json:"number"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	Result     string    `json:"result"`
	StatusCode int       `json:"status_code,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Error      string    `json:"error,omitempty"`
}

func viewCall(c *store.Call, withPayload bool) callView {
	v := callView{ID: c.ID, ReceivedAt: c.ReceivedAt.UTC(), Status: c.Status, Matched: c.Matched}
	if v.Matched == nil {
		v.Matched = []string{}
	}
	if withPayload {
		v.Payload = embedJSON(c.Raw)
	}
	return v
}

func viewDelivery(d *store.Delivery) deliveryView {
	v := deliveryView{
		ID: d.ID, CallID: d.CallID, Rule: d.Rule, Action: d.Action, Sink: d.Sink, State: d.State,
		Attempts: d.Attempts, ReceivedAt: d.ReceivedAt.UTC(), QueuedAt: d.QueuedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
		LastError: validText(d.LastError), LastReason: d.LastReason, LastStatus: d.LastStatus,
	}
	if d.State == store.Pending {
		t := d.NextAttemptAt.UTC()
		v.NextAttemptAt = &t
	}
	v.Message = embedJSON(d.Message)
	return v
}

func (r *Router) withHistory(req *http.Request, d *store.Delivery) (deliveryView, error) {
	v := viewDelivery(d)
	as, err := r.opts.Store.Attempts(req.Context(), d.ID)
	if err != nil {
		return v, err
	}
	for _, a := range as {
		v.History = append(v.History, attemptView{
			Number: a.Number, StartedAt: a.StartedAt.UTC(), DurationMS: float64(a.Duration.Microseconds()) / 1000,
			Result: a.Result, StatusCode: a.StatusCode, Reason: a.Reason, Error: validText(a.Error),
		})
	}
	return v, nil
}

func (r *Router) listCalls(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	limit, ok := limitParam(w, q.Get("limit"))
	if !ok {
		return
	}
	before, ok := r.parseCursor(w, req, q.Get("before"))
	if !ok {
		return
	}
	if limit == 0 {
		limit = defaultListLimit
	}
	f := store.CallFilter{Before: before, Limit: int(limit)}
	cs, err := r.opts.Store.ListCalls(req.Context(), f)
	if err != nil {
		storeError(w, err, "calls")
		return
	}
	out := struct {
		Calls []callView `json:"calls"`
		// NextBefore is the before= of the next page; absent on a page that is not full.
		NextBefore string `json:"next_before,omitempty"`
	}{Calls: []callView{}}
	for _, c := range cs {
		out.Calls = append(out.Calls, viewCall(c, false))
	}
	if n := len(cs); n > 0 && n == f.Limit {
		out.NextBefore = formatCursor(cs[n-1].Cursor())
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *Router) getCall(w http.ResponseWriter, req *http.Request) {
	id, ok := idParam(w, req)
	if !ok {
		return
	}
	c, err := r.opts.Store.GetCall(req.Context(), id)
	if err != nil {
		storeError(w, err, "call")
		return
	}
	ds, err := r.opts.Store.ListDeliveries(req.Context(), store.DeliveryFilter{CallID: id, Limit: 1000})
	if err != nil {
		storeError(w, err, "deliveries")
		return
	}
	out := struct {
		Call       callView       `json:"call"`
		Deliveries []deliveryView `json:"deliveries"`
	}{Call: viewCall(c, true), Deliveries: []deliveryView{}}
	for _, d := range ds {
		v, err := r.withHistory(req, d)
		if err != nil {
			storeError(w, err, "attempts")
			return
		}
		out.Deliveries = append(out.Deliveries, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *Router) listDeliveries(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	f := store.DeliveryFilter{State: store.State(q.Get("state")), Sink: q.Get("sink")}
	switch f.State {
	case "", store.Pending, store.InFlight, store.Delivered, store.Dead:
	default:
		writeError(w, http.StatusBadRequest, `state must be one of "pending", "in_flight", "delivered", "dead"`)
		return
	}
	limit, ok1 := limitParam(w, q.Get("limit"))
	after, ok2 := intParam(w, q.Get("after"), "after")
	callID, ok3 := intParam(w, q.Get("call_id"), "call_id")
	if !ok1 || !ok2 || !ok3 {
		return
	}
	f.Limit, f.AfterID, f.CallID = int(limit), after, callID
	ds, err := r.opts.Store.ListDeliveries(req.Context(), f)
	if err != nil {
		storeError(w, err, "deliveries")
		return
	}
	out := struct {
		Deliveries []deliveryView `json:"deliveries"`
	}{Deliveries: []deliveryView{}}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, viewDelivery(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *Router) getDelivery(w http.ResponseWriter, req *http.Request) {
	id, ok := idParam(w, req)
	if !ok {
		return
	}
	d, err := r.opts.Store.GetDelivery(req.Context(), id)
	if err != nil {
		storeError(w, err, "delivery")
		return
	}
	v, err := r.withHistory(req, d)
	if err != nil {
		storeError(w, err, "attempts")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (r *Router) retryDelivery(w http.ResponseWriter, req *http.Request) {
	id, ok := idParam(w, req)
	if !ok {
		return
	}
	r.requeue(w, req, store.Selector{DeliveryID: id})
}

func (r *Router) retryCall(w http.ResponseWriter, req *http.Request) {
	id, ok := idParam(w, req)
	if !ok {
		return
	}
	r.requeue(w, req, store.Selector{CallID: id})
}

func (r *Router) requeue(w http.ResponseWriter, req *http.Request, sel store.Selector) {
	n, err := r.opts.Store.Requeue(req.Context(), sel, r.opts.Now())
	if err != nil {
		storeError(w, err, "delivery")
		return
	}
	r.log.Info("deliveries requeued by the admin API", "count", n, "delivery_id", sel.DeliveryID, "call_id", sel.CallID)
	writeJSON(w, http.StatusOK, map[string]int{"requeued": n})
}

func idParam(w http.ResponseWriter, req *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(req.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "id must be a positive integer")
		return 0, false
	}
	return id, true
}

// maxListLimit bounds one page of the admin API, so that a request cannot load the whole store.
const maxListLimit = 1000

// defaultListLimit is the page size when limit= is absent or 0, as the stores' default.
const defaultListLimit = 100

// limitParam parses a page size: 0 (the store's default of 100) up to maxListLimit.
func limitParam(w http.ResponseWriter, s string) (int64, bool) {
	n, ok := intParam(w, s, "limit")
	if ok && n > maxListLimit {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be at most %d: page with before= or after=", maxListLimit))
		return 0, false
	}
	return n, ok
}

func intParam(w http.ResponseWriter, s, name string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, name+" must be a non-negative integer")
		return 0, false
	}
	return n, true
}
