package relay

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/config"
)

// What a reload reports besides its errors: the reload metrics, and the settings it cannot change.

// reloadMetrics are switchboard_config_last_reload_*.
type reloadMetrics struct {
	ok, at prometheus.Gauge
}

func newReloadMetrics(reg prometheus.Registerer) *reloadMetrics {
	m := &reloadMetrics{
		ok: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "switchboard", Name: "config_last_reload_successful",
			Help: "Whether the last configuration load or reload succeeded (1) or was rejected (0).",
		}),
		at: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "switchboard", Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load or reload.",
		}),
	}
	reg.MustRegister(m.ok, m.at)
	return m
}

func (m *reloadMetrics) succeeded(t time.Time) {
	m.ok.Set(1)
	m.at.Set(float64(t.Unix()))
}

func (m *reloadMetrics) failed() { m.ok.Set(0) }

// warnRestartNeeded logs the settings that a reload cannot change.
func warnRestartNeeded(log *slog.Logger, old, next *config.Config) {
	if old.Server.Listen != next.Server.Listen || old.Server.WebhookPath != next.Server.WebhookPath {
		log.Warn("server.listen and server.webhook_path change only on restart; the old values stay in force")
	}
	if old.Storage.Driver != next.Storage.Driver || old.Storage.Path != next.Storage.Path || old.Storage.DSN != next.Storage.DSN {
		log.Warn("storage settings change only on restart; the old values stay in force")
	}
	if old.Storage.Lease != next.Storage.Lease {
		log.Warn("storage.lease changes only on restart; the old value stays in force")
	}
}
