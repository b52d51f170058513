package router

import (
	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "switchboard"

// Rejection reasons, the values of switchboard_webhook_rejections_total's reason label.
const (
	ReasonUnauthorized = "unauthorized"
	ReasonTooLarge     = "too_large"
	ReasonBadJSON      = "bad_json"
	ReasonInvalid      = "invalid"
	ReasonStorage      = "storage"
)

// Metrics are the ingest and rule metrics (docs/observability.md, "Metrics reference").
type Metrics struct {
	Received       *prometheus.CounterVec // outcome = accepted, duplicate, conflict, rejected
	Rejections     *prometheus.CounterVec // reason
	IngestDuration prometheus.Histogram
	RuleMatches    *prometheus.CounterVec // rule
	Unmatched      prometheus.Counter
	RuleErrors     *prometheus.CounterVec // rule: a when that failed at run time
	RenderErrors   *prometheus.CounterVec // rule, sink: an action that failed to render
	// SchemaMismatches counts call variables that do not fit the declared schema, by field: a
	// declared "map.key", or "undeclared".
	SchemaMismatches *prometheus.CounterVec
}

// NewMetrics creates the ingest metrics and registers them with reg (nil registers nothing).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhooks_received_total",
			Help: "Webhooks received by outcome (accepted, duplicate, conflict, rejected).",
		}, []string{"outcome"}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhook_rejections_total",
			Help: "Webhooks rejected by reason (unauthorized, too_large, bad_json, invalid, storage).",
		}, []string{"reason"}),
		IngestDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "ingest_duration_seconds",
			Help:    "Time from a webhook request's arrival to its response.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		RuleMatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rule_matches_total",
			Help: "Accepted calls matched by each rule.",
		}, []string{"rule"}),
		Unmatched: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "calls_unmatched_total",
			Help: "Accepted calls that matched no rule.",
		}),
		RuleErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rule_errors_total",
			Help: "Rule conditions that failed to evaluate (counted as not matched).",
		}, []string{"rule"}),
		RenderErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "render_errors_total",
			Help: "Actions whose message failed to render (stored as dead letters).",
		}, []string{"rule", "sink"}),
		SchemaMismatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "schema_mismatches_total",
			Help: "Call variables that do not fit the declared schema, by field (a declared map.key, or undeclared); the call is accepted.",
		}, []string{"field"}),
	}
	if reg != nil {
		reg.MustRegister(m.Received, m.Rejections, m.IngestDuration, m.RuleMatches, m.Unmatched, m.RuleErrors, m.RenderErrors, m.SchemaMismatches)
	}
	for _, o := range []string{outcomeAccepted, outcomeDuplicate, outcomeConflict, outcomeRejected} {
		m.Received.WithLabelValues(o)
	}
	for _, r := range []string{ReasonUnauthorized, ReasonTooLarge, ReasonBadJSON, ReasonInvalid, ReasonStorage} {
		m.Rejections.WithLabelValues(r)
	}
	return m
}

// InitializeFor starts the series of every rule and action sink, and of every declared schema
// field, at zero.
func (m *Metrics) InitializeFor(rt *Runtime) {
	for _, f := range schemaFields(rt.Config.Schema) {
		m.SchemaMismatches.WithLabelValues(f)
	}
	for _, r := range rt.Config.Rules {
		m.RuleMatches.WithLabelValues(r.Name)
		m.RuleErrors.WithLabelValues(r.Name)
		for _, a := range r.Actions {
			m.RenderErrors.WithLabelValues(r.Name, a.Sink)
		}
	}
}

const (
	outcomeAccepted  = "accepted"
	outcomeDuplicate = "duplicate"
	outcomeConflict  = "conflict" // a duplicate id whose content differs from the stored call
	outcomeRejected  = "rejected"
)
