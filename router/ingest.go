package router

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// ingestTimeout bounds how long a webhook waits for its durable commit before it is answered 503.
const ingestTimeout = 10 * time.Second

// ingestReply is the 2xx answer. It stays small: Intellixent stores it and shows it to its user.
type ingestReply struct {
	CallID     int64    `json:"call_id"`
	Matched    []string `json:"matched"`
	Deliveries int      `json:"deliveries"`
}

// duplicateReply answers a call id that was already accepted; Conflict says the stored call's
// content differs from this one's (which is dropped all the same).
type duplicateReply struct {
	CallID    int64 `json:"call_id"`
	Duplicate bool  `json:"duplicate"`
	Conflict  bool  `json:"conflict,omitempty"`
}

// ingest accepts one webhook: authenticate, limit, decode, match and render, then store the call and
// its deliveries durably before answering 202. Nothing is acknowledged that is not on disk.
func (r *Router) ingest(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	defer func() { r.opts.Metrics.IngestDuration.Observe(time.Since(start).Seconds()) }()
	rt := r.opts.Runtime()
	srv := rt.Config.Server

	if tok := string(srv.AuthToken); tok != "" {
		got := bearer(req)
		if got == "" {
			got = req.URL.Query().Get("token")
		}
		if !tokenMatches(got, tok) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			r.reject(w, req, http.StatusUnauthorized, ReasonUnauthorized,
				"missing or wrong token: send Authorization: Bearer <token> or ?token=<token>", nil)
			return
		}
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, int64(srv.MaxBodyBytes)))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			r.reject(w, req, http.StatusRequestEntityTooLarge, ReasonTooLarge,
				"body is larger than server.max_body_bytes", nil)
			return
		}
		r.reject(w, req, http.StatusBadRequest, ReasonBadJSON, "could not read the request body", err)
		return
	}

	c, err := call.Decode(body)
	if err != nil {
		reason := ReasonBadJSON
		var fe *call.FieldError
		if errors.As(err, &fe) {
			reason = ReasonInvalid
		}
		r.reject(w, req, http.StatusBadRequest, reason, err.Error(), nil)
		return
	}

	res := rt.Rules.Evaluate(c)
	sc := &store.Call{ID: c.ID, ReceivedAt: r.opts.Now(), Status: c.Status, Matched: res.Matched, Raw: body, Duration: c.Duration}
	if c.CustomerPhone != nil {
		sc.CustomerPhone = *c.CustomerPhone
	}
	deliveries := make([]store.NewDelivery, 0, len(res.Actions))
	for _, a := range res.Actions {
		d := store.NewDelivery{Rule: a.Rule, Action: a.Index, Sink: a.Sink}
		if a.Err == nil {
			d.Message = a.Message // rendered as JSON: stored as it is
		}
		if a.Err != nil {
			// The message could not be built: keep it as a dead letter, visible and counted.
			d.Dead, d.Reason, d.Error = true, string(sinks.ReasonTemplate), a.Err.Error()
		}
		deliveries = append(deliveries, d)
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), ingestTimeout)
	defer cancel()
	if _, err := r.opts.Store.Ingest(ctx, sc, deliveries); err != nil {
		if errors.Is(err, store.ErrConflict) {
			r.opts.Metrics.Received.WithLabelValues(outcomeConflict).Inc()
			r.log.Warn("duplicate call id with different content ignored: the call stored first is kept", "call_id", c.ID)
			writeJSON(w, http.StatusOK, duplicateReply{CallID: c.ID, Duplicate: true, Conflict: true})
			return
		}
		if errors.Is(err, store.ErrDuplicate) {
			r.opts.Metrics.Received.WithLabelValues(outcomeDuplicate).Inc()
			r.log.Info("duplicate webhook ignored", "call_id", c.ID)
			writeJSON(w, http.StatusOK, duplicateReply{CallID: c.ID, Duplicate: true})
			return
		}
		r.reject(w, req, http.StatusServiceUnavailable, ReasonStorage,
			"storage unavailable: the call was not accepted, send it again", err)
		return
	}

	m := r.opts.Metrics
	m.Received.WithLabelValues(outcomeAccepted).Inc()
	r.checkSchema(rt.Config.Schema, c)
	for _, name := range res.Matched {
		m.RuleMatches.WithLabelValues(name).Inc()
	}
	if len(res.Matched) == 0 {
		m.Unmatched.Inc()
	}
	for _, e := range res.Errors {
		m.RuleErrors.WithLabelValues(e.Rule).Inc()
		r.log.Warn("rule condition failed, treated as not matched", "call_id", c.ID, "rule", e.Rule, "err", e.Err)
	}
	for i, d := range deliveries {
		if d.Dead {
			m.RenderErrors.WithLabelValues(d.Rule, d.Sink).Inc()
			r.log.Error("action failed to render, kept as a dead letter", "call_id", c.ID, "rule", d.Rule,
				"sink", d.Sink, "action", res.Actions[i].Index, "err", d.Error)
		}
	}
	r.log.Debug("webhook accepted", "call_id", c.ID, "matched", res.Matched, "deliveries", len(deliveries))
	matched := res.Matched
	if matched == nil {
		matched = []string{}
	}
	writeJSON(w, http.StatusAccepted, ingestReply{CallID: c.ID, Matched: matched, Deliveries: len(deliveries)})
}

func (r *Router) reject(w http.ResponseWriter, req *http.Request, status int, reason, msg string, err error) {
	r.opts.Metrics.Received.WithLabelValues(outcomeRejected).Inc()
	r.opts.Metrics.Rejections.WithLabelValues(reason).Inc()
	attrs := []any{"reason", reason, "status", status, "remote", req.RemoteAddr, "problem", msg}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	if status >= 500 {
		r.log.Error("webhook rejected", attrs...)
	} else {
		r.log.Warn("webhook rejected", attrs...)
	}
	writeError(w, status, msg)
}
