package dispatch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

const namespace = "switchboard"

// Metrics are the delivery metrics (docs/observability.md, "Metrics reference"). Label values come only from sink names (config) and
// fixed sets.
type Metrics struct {
	Attempts *prometheus.CounterVec   // sink, result, reason
	Outcomes *prometheus.CounterVec   // sink, outcome
	Duration *prometheus.HistogramVec // sink: one attempt
	Latency  *prometheus.HistogramVec // sink: webhook received -> delivered
	// SinkState is 1 for a sink's current state (active, paused, held) and 0 for the others.
	SinkState *prometheus.GaugeVec // sink, state
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
		SinkState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "sink_state",
			Help:      "1 for the sink's current state (active, paused, held), 0 for the others.",
		}, []string{"sink", "state"}),
	}
	if reg != nil {
		reg.MustRegister(m.Attempts, m.Outcomes, m.Duration, m.Latency, m.SinkState)
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
	for _, s := range store.SinkStates {
		m.SinkState.WithLabelValues(sink, string(s))
	}
}

// forget drops the sink-state series of a sink that is no longer configured.
func (m *Metrics) forget(sink string) {
	for _, s := range store.SinkStates {
		m.SinkState.DeleteLabelValues(sink, string(s))
	}
}

const (
	resultSuccess   = "success"
	resultRetry     = "retry"
	resultPermanent = "permanent"

	outcomeDelivered = "delivered"
	outcomeDead      = "dead"
)
