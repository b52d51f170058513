package dispatch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/sinks"
)

const namespace = "switchboard"

// Metrics are the delivery metrics in docs/observability.md. Label values come only from sink names (config) and
// fixed sets.
type Metrics struct {
	Attempts *prometheus.CounterVec   // sink, result, reason
	Outcomes *prometheus.CounterVec   // sink, outcome
	Duration *prometheus.HistogramVec // sink: one attempt
	Latency  *prometheus.HistogramVec // sink: webhook received -> delivered
}

// NewMetrics creates the delivery metrics and registers them with reg (nil registers nothing).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "delivery_attempts_total",
			Help:      "Delivery attempts by sink, result (success, retry, permanent) and failure reason.",
		}, []string{"sink", "result", "reason"}),
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "deliveries_total",
			Help:      "Deliveries finished by sink and outcome (delivered, dead).",
		}, []string{"sink", "outcome"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "delivery_duration_seconds",
			Help:      "Duration of one delivery attempt by sink.",
			Buckets:   []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"sink"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "delivery_latency_seconds",
			Help:      "Time from webhook receipt to successful delivery by sink.",
			Buckets:   []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600},
		}, []string{"sink"}),
	}
	if reg != nil {
		reg.MustRegister(m.Attempts, m.Outcomes, m.Duration, m.Latency)
	}
	return m
}

// InitializeFor starts every series of a sink at zero, so that rate() and alerts see it before the
// first failure.
func (m *Metrics) InitializeFor(sink string) {
	m.Attempts.WithLabelValues(sink, resultSuccess, "")
	for _, r := range sinks.Reasons {
		m.Attempts.WithLabelValues(sink, resultRetry, string(r))
		m.Attempts.WithLabelValues(sink, resultPermanent, string(r))
	}
	m.Outcomes.WithLabelValues(sink, outcomeDelivered)
	m.Outcomes.WithLabelValues(sink, outcomeDead)
	m.Duration.WithLabelValues(sink)
	m.Latency.WithLabelValues(sink)
}

const (
	resultSuccess   = "success"
	resultRetry     = "retry"
	resultPermanent = "permanent"

	outcomeDelivered = "delivered"
	outcomeDead      = "dead"
)
