package relay

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/store"
)

// queueCollector reports the queue gauges from store.Stats, cached briefly so that several scrapes in
// a row cost one query.
type queueCollector struct {
	st  store.Store
	log *slog.Logger
	// sinks returns the configured sink names, reported at zero when they have nothing queued.
	sinks func() []string

	depth, oldest *prometheus.Desc

	mu      sync.Mutex
	stats   []store.SinkStats
	fetched time.Time
}

const queueStatsTTL = 2 * time.Second

func newQueueCollector(st store.Store, log *slog.Logger, sinks func() []string) *queueCollector {
	return &queueCollector{
		st: st, log: log, sinks: sinks,
		depth: prometheus.NewDesc("switchboard_queue_deliveries",
			"Deliveries in the queue by sink and state (pending, retrying, dead).", []string{"sink", "state"}, nil),
		oldest: prometheus.NewDesc("switchboard_queue_oldest_pending_age_seconds",
			"Age of the oldest delivery not yet delivered (pending, retrying or in flight), by sink; 0 when none.", []string{"sink"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if time.Since(c.fetched) > queueStatsTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		stats, err := c.st.Stats(ctx)
		cancel()
		if err != nil {
			c.log.Warn("read queue stats for metrics", "err", err)
		} else {
			c.stats, c.fetched = stats, time.Now()
		}
	}
	stats := c.stats
	c.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range stats {
		seen[s.Sink] = true
	}
	for _, name := range c.sinks() {
		if !seen[name] {
			stats = append(stats, store.SinkStats{Sink: name})
		}
	}
	now := time.Now()
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Pending), s.Sink, "pending")
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Retrying), s.Sink, "retrying")
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Dead), s.Sink, "dead")
		age := 0.0
		if !s.OldestPending.IsZero() {
			age = max(now.Sub(s.OldestPending).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, s.Sink)
	}
}
