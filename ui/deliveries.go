package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

type deliveriesData struct {
	Filters  deliveryFilters
	Sinks    []string
	Rules    []string
	States   []store.State
	Reasons  []sinks.Reason
	Rows     []*store.Delivery
	Next     string
	First    string
	Filtered bool
	// RetryLink leads to the bulk retry's confirmation, when dead deliveries can match.
	RetryLink string
	Back      string
}

type confirmData struct {
	Filters deliveryFilters
	Hidden  []kv
	N       int
	Back    string
}

func (c *Console) filterChoices(d *deliveriesData) {
	rt := c.runtime()
	for _, s := range rt.Config.Sinks {
		d.Sinks = append(d.Sinks, s.Name)
	}
	for _, r := range rt.Config.Rules {
		d.Rules = append(d.Rules, r.Name)
	}
	// Notifications are deliveries too, under rules of their own.
	if rt.Config.Notify.DeadLetters != nil {
		d.Rules = append(d.Rules, store.NotifyRulePrefix+"dead_letters")
	}
	if rt.Config.Notify.SinkDown != nil {
		d.Rules = append(d.Rules, store.NotifyRulePrefix+"sink_down")
	}
	d.States, d.Reasons = states, sinks.Reasons
}

func (c *Console) deliveries(w http.ResponseWriter, r *http.Request, a access) {
	f := parseDeliveryFilters(r.URL.Query())
	d := deliveriesData{Filters: f, Back: "/ui/deliveries?" + f.values().Encode()}
	c.filterChoices(&d)
	v := f.values()
	d.Filtered = len(v) > 0
	if len(f.Problems) > 0 {
		c.render(w, r, http.StatusBadRequest, "deliveries", a, "Deliveries", d)
		return
	}
	ds, err := c.console.SearchDeliveries(r.Context(), f.query)
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	for _, dl := range ds {
		dl.LastError = c.maskText(dl.LastError)
	}
	d.Rows = ds
	if len(ds) == pageSize {
		nv := f.values()
		nv.Set("before", strconv.FormatInt(ds[len(ds)-1].ID, 10))
		d.Next = "/ui/deliveries?" + nv.Encode()
	}
	if f.query.BeforeID > 0 {
		d.First = "/ui/deliveries"
		if len(v) > 0 {
			d.First += "?" + v.Encode()
		}
	}
	if f.State == "" || f.State == string(store.Dead) {
		d.RetryLink = "/ui/deliveries/retry?" + v.Encode()
	}
	c.render(w, r, http.StatusOK, "deliveries", a, "Deliveries", d)
}

// deadQuery is q narrowed to dead deliveries, the only ones a bulk retry requeues.
func deadQuery(q store.DeliveryQuery) store.DeliveryQuery {
	q.State, q.BeforeID, q.Limit = store.Dead, 0, 0
	return q
}

func (c *Console) confirmRetry(w http.ResponseWriter, r *http.Request, a access) {
	f := parseDeliveryFilters(r.URL.Query())
	if len(f.Problems) > 0 {
		c.fail(w, r, http.StatusBadRequest, f.Problems[0])
		return
	}
	n, err := c.console.CountDeliveries(r.Context(), deadQuery(f.query))
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	d := confirmData{Filters: f, N: n, Back: "/ui/deliveries?" + f.values().Encode()}
	for k, vs := range f.values() {
		if k != "state" {
			d.Hidden = append(d.Hidden, kv{k, vs[0]})
		}
	}
	c.render(w, r, http.StatusOK, "confirm", a, "Retry dead deliveries", d)
}

// retryMatching requeues every dead delivery matching the posted filters.
func (c *Console) retryMatching(w http.ResponseWriter, r *http.Request, _ access) {
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := parseDeliveryFilters(r.PostForm)
	if len(f.Problems) > 0 {
		c.fail(w, r, http.StatusBadRequest, f.Problems[0])
		return
	}
	total, err := c.requeueMatching(r.Context(), f.query)
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	c.log.Info("deliveries requeued from the console", "count", total, "filters", f.values().Encode())
	back := f.values()
	back.Set("requeued", strconv.Itoa(total))
	http.Redirect(w, r, "/ui/deliveries?"+back.Encode(), http.StatusSeeOther)
}

// requeueMatching requeues the dead deliveries matching q (the filters of the deliveries page) and
// returns how many. Filters on what a delivery was sent to (sink, rule, last reason) or on its call
// are one store call, as for POST /api/deliveries/retry and `switchboard replay`; a window on when
// the calls were received, which a store.DeadFilter does not express, requeues page by page the
// deliveries the confirmation counted.
func (c *Console) requeueMatching(ctx context.Context, q store.DeliveryQuery) (int, error) {
	now := c.opts.Now()
	if q.From.IsZero() && q.To.IsZero() {
		if q.CallID != 0 && q.Sink == "" && q.Rule == "" && q.Reason == "" {
			return c.opts.Store.Requeue(ctx, store.Selector{CallID: q.CallID}, now)
		}
		if q.CallID == 0 {
			return c.opts.Store.Requeue(ctx, store.Selector{Dead: &store.DeadFilter{Sink: q.Sink, Rule: q.Rule, Reason: q.Reason}}, now)
		}
	}
	q = deadQuery(q)
	q.Limit = 500
	total := 0
	for {
		ds, err := c.console.SearchDeliveries(ctx, q)
		if err != nil {
			return total, err
		}
		for _, d := range ds {
			n, err := c.opts.Store.Requeue(ctx, store.Selector{DeliveryID: d.ID}, now)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return total, err
			}
			total += n
		}
		if len(ds) < q.Limit {
			return total, nil
		}
		q.BeforeID = ds[len(ds)-1].ID
	}
}

func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request, _ access) {
	id, ok := pathID(r)
	if !ok {
		c.fail(w, r, http.StatusNotFound, "A delivery id is a positive number.")
		return
	}
	n, err := c.opts.Store.Requeue(r.Context(), store.Selector{DeliveryID: id}, c.opts.Now())
	if errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no delivery %d.", id))
		return
	}
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	c.log.Info("deliveries requeued from the console", "count", n, "delivery_id", id)
	c.redirectBack(w, r, n, fmt.Sprintf("#delivery-%d", id))
}

func (c *Console) retryCall(w http.ResponseWriter, r *http.Request, _ access) {
	id, ok := pathID(r)
	if !ok {
		c.fail(w, r, http.StatusNotFound, "A call id is a positive number.")
		return
	}
	n, err := c.opts.Store.Requeue(r.Context(), store.Selector{CallID: id}, c.opts.Now())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.storeFailed(w, r, err)
		return
	}
	c.log.Info("deliveries requeued from the console", "count", n, "call_id", id)
	_ = r.ParseForm()
	r.Form.Set("back", fmt.Sprintf("/ui/calls/%d", id))
	c.redirectBack(w, r, n, "")
}

// redirectBack returns to the page the form was on (inside the console), saying how many were
// requeued.
func (c *Console) redirectBack(w http.ResponseWriter, r *http.Request, n int, fragment string) {
	back := safeNext(r.FormValue("back"))
	u, err := url.Parse(back)
	if err != nil {
		u = &url.URL{Path: Prefix}
	}
	q := u.Query()
	q.Set("requeued", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String()+fragment, http.StatusSeeOther)
}
