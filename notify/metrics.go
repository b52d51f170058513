package notify

import "github.com/prometheus/client_golang/prometheus"

// Kinds of notification: the metric's kind label, and the part of a notification delivery's rule
// after "notify:".
const (
	KindDeadLetters = "dead_letters"
	KindSinkDown    = "sink_down"
)

// Outcomes of a notification: the metric's outcome label.
const (
	OutcomeQueued    = "queued"    // stored in the outbox
	OutcomeDelivered = "delivered" // its sink accepted it
	OutcomeDead      = "dead"      // it died: logged, and never notified again
	OutcomeFailed    = "failed"    // it could not be queued (the store failed, or its text did not render)
)

// Metrics counts notifications.
type Metrics struct {
	Notifications *prometheus.CounterVec // kind, outcome
}

// NewMetrics creates switchboard_notifications_total with every series at zero and registers it
// with reg (nil registers nothing).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "switchboard",
		Name:      "notifications_total",
		Help:      "Notifications by kind (dead_letters, sink_down) and outcome (queued, delivered, dead, failed).",
	}, []string{"kind", "outcome"})}
	for _, k := range []string{KindDeadLetters, KindSinkDown} {
		for _, o := range []string{OutcomeQueued, OutcomeDelivered, OutcomeDead, OutcomeFailed} {
			m.Notifications.WithLabelValues(k, o)
		}
	}
	if reg != nil {
		reg.MustRegister(m.Notifications)
	}
	return m
}

func (m *Metrics) count(kind, outcome string) { m.Notifications.WithLabelValues(kind, outcome).Inc() }
