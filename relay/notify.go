package relay

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/notify"
	"github.com/switchboard-relay/switchboard/store"
)

// newNotifier builds the notifier of the notify section. The errors it quotes have phone numbers
// masked as the logs do, unless log.show_phone_numbers is set (read at start, like the logger).
func newNotifier(st store.Store, cfg *config.Config, log *slog.Logger, reg prometheus.Registerer) *notify.Notifier {
	mask := MaskPhones
	if cfg.Log.ShowPhoneNumbers {
		mask = nil
	}
	return notify.New(notify.Options{Store: st, Logger: log.With("component", "notify"), Metrics: notify.NewMetrics(reg), Mask: mask})
}

// MaskPhones masks every phone number in s as the logs do (see MaskPhone).
func MaskPhones(s string) string { return phonePattern.ReplaceAllStringFunc(s, MaskPhone) }
