package router

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// retryFilterBody is the JSON body of POST /api/deliveries/retry: the filters of
// `switchboard replay --dead`, and dry_run to list what would be requeued instead.
type retryFilterBody struct {
	store.DeadFilterSpec
	DryRun bool `json:"dry_run,omitempty"`
}

// maxRetryFilterBody bounds the body of POST /api/deliveries/retry.
const maxRetryFilterBody = 64 << 10

// retryFiltered requeues the dead deliveries a filter matches (every dead delivery for an empty
// body), answering {"requeued": N}; with dry_run it requeues nothing and answers
// {"would_requeue": N, "deliveries": [...]}, listing at most maxListLimit of them.
func (r *Router) retryFiltered(w http.ResponseWriter, req *http.Request) {
	var body retryFilterBody
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxRetryFilterBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "body must be a JSON object with sink, rule, reason, since, until or dry_run: "+err.Error())
		return
	}
	if body.Reason != "" {
		if msg := sinks.CheckReason(body.Reason); msg != "" {
			writeError(w, http.StatusBadRequest, "reason: "+msg)
			return
		}
	}
	f, err := body.Parse(r.opts.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.DryRun {
		ds, err := r.opts.Store.ListDeliveries(req.Context(), store.DeliveryFilter{Dead: &f, Limit: maxListLimit})
		if err != nil {
			storeError(w, err, "delivery")
			return
		}
		views := make([]deliveryView, len(ds))
		for i, d := range ds {
			views[i] = viewDelivery(d)
		}
		writeJSON(w, http.StatusOK, map[string]any{"would_requeue": len(views), "deliveries": views})
		return
	}
	n, err := r.opts.Store.Requeue(req.Context(), store.Selector{Dead: &f}, r.opts.Now())
	if err != nil {
		storeError(w, err, "delivery")
		return
	}
	r.log.Info("dead deliveries requeued", "count", n, "channel", "api", "client", req.RemoteAddr,
		"sink", f.Sink, "rule", f.Rule, "reason", f.Reason, "since", body.Since, "until", body.Until)
	writeJSON(w, http.StatusOK, map[string]int{"requeued": n})
}
