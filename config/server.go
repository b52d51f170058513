package config

import (
	"net"
	"time"
)

var (
	serverKeys   = []string{"listen", "webhook_path", "auth", "max_body_bytes", "admin_token", "tls", "public_url"}
	authKeys     = []string{"token"}
	storageKeys  = []string{"driver", "path", "dsn", "retention", "dead_letter_retention", "lease"}
	logKeys      = []string{"format", "level", "show_phone_numbers"}
	deliveryKeys = []string{"retry", "concurrency", "hold_after", "probe_interval"}
	retryKeys    = []string{"max_attempts", "initial_backoff", "max_backoff", "max_age"}
)

// Defaults of the server, storage and log sections.
const (
	DefaultListen       = ":8080"
	DefaultWebhookPath  = "/webhooks/intellixent"
	DefaultMaxBodyBytes = Size(4 << 20)
	DefaultStoragePath  = "./data/switchboard.db"
	DefaultRetention    = 720 * time.Hour
	DefaultLease        = 2 * time.Minute
)

// DefaultDeadLetterRetention is how long dead deliveries (and their calls) are kept unless replayed.
const DefaultDeadLetterRetention = 2160 * time.Hour

func (d *decoder) server(o *object) Server {
	s := Server{Listen: DefaultListen, WebhookPath: DefaultWebhookPath, MaxBodyBytes: DefaultMaxBodyBytes}
	if d.str(o, "listen", &s.Listen) {
		if _, _, err := net.SplitHostPort(s.Listen); err != nil {
			d.errorf(o.lineOf("listen"), o.at("listen"), "must be host:port such as \":8080\" or \"127.0.0.1:8080\", got %q", s.Listen)
		}
	}
	if d.str(o, "webhook_path", &s.WebhookPath) {
		if msg := checkWebhookPath(s.WebhookPath); msg != "" {
			d.errorf(o.lineOf("webhook_path"), o.at("webhook_path"), "%s", msg)
		}
	}
	auth := d.sub(o, "auth", authKeys)
	d.secret(auth, "token", &s.AuthToken)
	d.size(o, "max_body_bytes", &s.MaxBodyBytes)
	d.secret(o, "admin_token", &s.AdminToken)
	s.TLS = d.tls(o)
	d.publicURL(o, &s.PublicURL)
	return s
}

func (d *decoder) storage(o *object) Storage {
	s := Storage{Driver: "sqlite", Path: ResolvePath(d.file, DefaultStoragePath), Retention: DefaultRetention,
		DeadLetterRetention: DefaultDeadLetterRetention, Lease: DefaultLease}
	d.enum(o, "driver", &s.Driver, storageDrivers...)
	d.path(o, "path", &s.Path)
	d.secret(o, "dsn", &s.DSN)
	d.duration(o, "retention", &s.Retention, true)
	d.duration(o, "dead_letter_retention", &s.DeadLetterRetention, true)
	d.duration(o, "lease", &s.Lease, false)
	if s.Driver == "postgres" && s.DSN == "" {
		d.missing(o, "dsn", "the postgres driver needs a connection string such as ${DATABASE_URL}")
	}
	return s
}

// checkLease reports a storage lease that a sink's timeout could outlast: another replica would then
// send the same delivery while the first is still waiting for an answer.
func (d *decoder) checkLease(o *object, cfg *Config) {
	for _, s := range cfg.Sinks {
		key, timeout := s.timeoutKey, s.timeout
		if key == "" {
			continue
		}
		if timeout < cfg.Storage.Lease {
			continue
		}
		if o.has("lease") {
			d.errorf(o.lineOf("lease"), o.at("lease"), "%s must be longer than every sink timeout, but sinks.%s.%s is %s (raise lease or lower that timeout)",
				cfg.Storage.Lease, s.Name, key, timeout)
		} else {
			// The lease is the default: point at the timeout that outlasts it.
			d.errorf(s.Line, "sinks."+s.Name+"."+key, "%s must be shorter than storage.lease (default %s): lower it, or set a longer storage.lease",
				timeout, cfg.Storage.Lease)
		}
	}
}

func (d *decoder) log(o *object) Log {
	l := Log{Format: "text", Level: "info"}
	d.enum(o, "format", &l.Format, logFormats...)
	d.enum(o, "level", &l.Level, logLevels...)
	d.boolean(o, "show_phone_numbers", &l.ShowPhoneNumbers)
	return l
}

func defaultDelivery() DeliveryPolicy {
	return DeliveryPolicy{
		Retry: Retry{
			MaxAttempts:    12,
			InitialBackoff: 2 * time.Second,
			MaxBackoff:     10 * time.Minute,
			MaxAge:         48 * time.Hour,
		},
		Concurrency:   4,
		HoldAfter:     DefaultHoldAfter,
		ProbeInterval: DefaultProbeInterval,
	}
}

// Defaults of a sink's hold: a sink whose every attempt failed with a retryable error for
// DefaultHoldAfter is held, and probed every DefaultProbeInterval.
const (
	DefaultHoldAfter     = 15 * time.Minute
	DefaultProbeInterval = time.Minute
)

// delivery reads retry and concurrency from o, each key overriding base individually.
func (d *decoder) delivery(o *object, base DeliveryPolicy) DeliveryPolicy {
	out := base
	r := d.sub(o, "retry", retryKeys)
	d.integer(r, "max_attempts", &out.Retry.MaxAttempts, 1)
	d.duration(r, "initial_backoff", &out.Retry.InitialBackoff, false)
	d.duration(r, "max_backoff", &out.Retry.MaxBackoff, false)
	d.duration(r, "max_age", &out.Retry.MaxAge, false)
	if (r.has("initial_backoff") || r.has("max_backoff")) && out.Retry.InitialBackoff > out.Retry.MaxBackoff {
		key := "max_backoff"
		if !r.has(key) {
			key = "initial_backoff"
		}
		d.errorf(r.lineOf(key), r.at(key), "initial_backoff (%s) must not exceed max_backoff (%s)",
			out.Retry.InitialBackoff, out.Retry.MaxBackoff)
	}
	d.integer(o, "concurrency", &out.Concurrency, 1)
	d.duration(o, "hold_after", &out.HoldAfter, true)
	d.duration(o, "probe_interval", &out.ProbeInterval, false)
	if (o.has("hold_after") || r.has("max_age")) && out.HoldAfter > 0 && out.Retry.MaxAge > 0 && out.HoldAfter >= out.Retry.MaxAge {
		key, at := "hold_after", o
		if !o.has(key) {
			key, at = "max_age", r
		}
		d.warnf(at.lineOf(key), at.at(key), "hold_after (%s) is not shorter than retry.max_age (%s): deliveries die of max_age before the sink can be held",
			out.HoldAfter, out.Retry.MaxAge)
	}
	return out
}
