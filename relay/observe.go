package relay

import (
	"context"
	"encoding"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/phone"
	"github.com/switchboard-relay/switchboard/store"
)

// NewLogger returns a slog logger writing to w in format "text" (default) or "json" at level "debug",
// "info" (default), "warn" or "error". Unless showPhones is set, every phone number in a logged string
// (the log sink's messages included) keeps only its last four digits: "+1******7890".
func NewLogger(w io.Writer, format, level string, showPhones bool) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "", "info":
		lv = slog.LevelInfo
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("unknown log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if !showPhones {
		opts.ReplaceAttr = maskPhoneAttr
	}
	switch strings.ToLower(format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("unknown log format %q: use text or json", format)
	}
}

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

// phonePattern matches phone numbers in international form, as Intellixent sends them: a + and at
// least eight digits, with single separators allowed ("+1234567890", "+1 (234) 567-8901"). Dates,
// timestamps and ids have no + and are left alone.
var phonePattern = regexp.MustCompile(`\+\d(?:[ .()-]?\d){7,}`)

// maskPhoneAttr is a slog ReplaceAttr that masks phone numbers in the text of every value: strings,
// and also errors, fmt.Stringers, text marshalers, byte slices and any other value, as the handler
// would print it. (slog resolves LogValuers before, and calls this for each member of a group.) A
// value that contains a phone number is logged as its masked text; any other is left as it is.
func maskPhoneAttr(_ []string, a slog.Attr) slog.Attr {
	var v string
	switch a.Value.Kind() {
	case slog.KindString:
		v = a.Value.String()
	case slog.KindAny:
		v = anyText(a.Value.Any())
	default:
		return a // numbers, bools, times and durations hold no phone number
	}
	if !strings.Contains(v, "+") {
		return a
	}
	masked := phonePattern.ReplaceAllStringFunc(v, MaskPhone)
	if masked == v {
		return a
	}
	return slog.String(a.Key, masked)
}

// anyText is the text a log handler shows for v; "" when v cannot say (a method panics on a nil
// pointer, which the handler itself reports).
func anyText(v any) (text string) {
	defer func() {
		if recover() != nil {
			text = ""
		}
	}()
	switch x := v.(type) {
	case nil:
		return ""
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return ""
		}
		return string(b)
	case []byte:
		return string(x)
	default:
		return fmt.Sprintf("%+v", x)
	}
}

// MaskPhone keeps a phone number's leading + and last four digits and replaces the other digits
// with '*' (phone.Mask, shared with the web console).
func MaskPhone(p string) string { return phone.Mask(p) }

// trackingRegisterer remembers what it registered, to unregister it all at the end of a run.
type trackingRegisterer struct {
	prometheus.Registerer
	registered []prometheus.Collector
}

// Register implements prometheus.Registerer.
func (t *trackingRegisterer) Register(c prometheus.Collector) error {
	if err := t.Registerer.Register(c); err != nil {
		return err
	}
	t.registered = append(t.registered, c)
	return nil
}

// MustRegister implements prometheus.Registerer.
func (t *trackingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *trackingRegisterer) unregisterAll() {
	for _, c := range t.registered {
		t.Registerer.Unregister(c)
	}
}
