package config

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// sinkType is everything the config knows about one type of sink: adding a sink type means adding
// one entry to sinkTypes.
type sinkType struct {
	name string
	// keys are the sink's own keys, beyond commonSinkKeys.
	keys []string
	// actionKeys are the action keys this type uses (besides "sink"); nil accepts every action key.
	actionKeys []string
	// decode reads the type's keys into s.
	decode func(d *decoder, o *object, s *Sink)
	// checkAction reports what an action for this type is missing.
	checkAction func(d *decoder, o *object, a *Action)
}

var commonSinkKeys = []string{"type", "rate_limit", "retry", "concurrency", "hold_after", "probe_interval"}

var sinkTypes = []*sinkType{
	{
		name:       "slack",
		keys:       []string{"webhook_url", "token", "channel", "api_url", "timeout"},
		actionKeys: []string{"text", "blocks"},
		decode:     (*decoder).slackSink,
		checkAction: func(d *decoder, o *object, a *Action) {
			d.requireOne(o, a.Text.Text != "" || a.Blocks != nil, "text", "slack actions need text, blocks or both")
			if a.Blocks != nil && a.Blocks.Kind == yaml.MappingNode {
				d.errorf(a.Blocks.Line, o.at("blocks"), "must be a list of blocks (each item starting with \"- type:\"), got a mapping")
			}
		},
	},
	{
		name:       "webhook",
		keys:       []string{"url", "method", "headers", "timeout", "signing_secret"},
		actionKeys: []string{"body", "headers"},
		decode:     (*decoder).webhookSink,
	},
	{
		name:       "email",
		keys:       []string{"smtp", "from"},
		actionKeys: []string{"to", "cc", "subject", "text", "html"},
		decode:     (*decoder).emailSink,
		checkAction: func(d *decoder, o *object, a *Action) {
			d.requireOne(o, len(a.To) > 0, "to", "email actions need at least one recipient")
			d.requireOne(o, a.Subject.Text != "", "subject", "")
			d.requireOne(o, a.Text.Text != "" || a.HTML.Text != "", "text", "email actions need text, html or both")
		},
	},
	// log writes each message to Switchboard's log instead of sending it. It accepts the keys of every
	// other type and ignores their values, so switching a sink to the log is a one-line change.
	{name: "log"},
}

// Defaults of the sinks.
const (
	DefaultSlackAPIURL   = "https://slack.com/api/chat.postMessage"
	DefaultHTTPTimeout   = 10 * time.Second
	DefaultSMTPTimeout   = 30 * time.Second
	DefaultWebhookMethod = "POST"
)

// SinkTypes returns the names of the sink types the config accepts.
func SinkTypes() []string {
	names := make([]string, len(sinkTypes))
	for i, t := range sinkTypes {
		names[i] = t.name
	}
	return names
}

func sinkTypeNamed(name string) *sinkType {
	for _, t := range sinkTypes {
		if t.name == name {
			return t
		}
	}
	return nil
}

// allSinkKeys is every key any sink type takes, which is what the log type accepts.
func allSinkKeys() []string {
	keys := append([]string(nil), commonSinkKeys...)
	for _, t := range sinkTypes {
		for _, k := range t.keys {
			if !contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// namePattern is what sink and rule names may contain: they are metric labels and part of the
// idempotency key.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (d *decoder) sinks(top *object, defaults DeliveryPolicy) []*Sink {
	o := d.sub(top, "sinks", nil)
	var out []*Sink
	for _, name := range o.order {
		k := o.keys[name]
		if !namePattern.MatchString(name) {
			d.errorf(k.Line, o.at(name), "sink names may use only letters, digits, \"_\", \".\" and \"-\"")
		}
		out = append(out, d.sink(name, k.Line, o.vals[name], defaults))
	}
	return out
}

func (d *decoder) sink(name string, line int, n *yaml.Node, defaults DeliveryPolicy) *Sink {
	path := "sinks." + name
	o := d.object(n, path, line, nil)
	s := &Sink{Name: name, Line: line, Delivery: defaults}
	if o.bad {
		return s
	}
	typ := d.sinkTypeOf(o, s)
	known := allSinkKeys()
	if typ != nil && typ.name != "log" {
		known = append(append([]string(nil), commonSinkKeys...), typ.keys...)
	}
	for _, key := range o.order {
		if contains(known, key) {
			continue
		}
		kl := o.keys[key].Line
		if contains(allSinkKeys(), key) {
			d.errorf(kl, o.at(key), "not used by %s sinks (they take: %s)", typ.name, strings.Join(known, ", "))
		} else {
			d.unknownKey(o.keys[key], o.path, known)
		}
		delete(o.vals, key)
	}
	s.Delivery = d.delivery(o, defaults)
	s.RateLimit = d.rate(o, "rate_limit")
	if typ == nil {
		return s
	}
	if typ.name == "slack" && s.RateLimit == nil {
		s.RateLimit = &Rate{Events: 1, Per: time.Second}
	}
	if typ.decode != nil {
		typ.decode(d, o, s)
	}
	return s
}

// sinkTypeOf reads the type key into s.Type and returns its description, or nil when it is missing
// or unknown (s.Type then keeps what was written).
func (d *decoder) sinkTypeOf(o *object, s *Sink) *sinkType {
	if !d.str(o, "type", &s.Type) {
		d.missing(o, "type", "one of "+quoteList(SinkTypes(), "or"))
		return nil
	}
	t := sinkTypeNamed(strings.ToLower(s.Type))
	if t == nil {
		d.errorf(o.lineOf("type"), o.at("type"), "must be one of %s, got %q", quoteList(SinkTypes(), "or"), s.Type)
		return nil
	}
	s.Type = t.name
	return t
}

func (d *decoder) slackSink(o *object, s *Sink) {
	c := &SlackSink{APIURL: DefaultSlackAPIURL, Timeout: DefaultHTTPTimeout}
	s.Slack = c
	if d.sinkSecret(o, "webhook_url", &c.WebhookURL) {
		d.secretURL(o, "webhook_url", string(c.WebhookURL))
	}
	d.sinkSecret(o, "token", &c.Token)
	d.str(o, "channel", &c.Channel)
	if d.str(o, "api_url", &c.APIURL) {
		if !isHTTPURL(c.APIURL) {
			d.errorf(o.lineOf("api_url"), o.at("api_url"), "must be an absolute http or https URL, got %q", c.APIURL)
		}
	}
	d.duration(o, "timeout", &c.Timeout, false)
	switch {
	case c.WebhookURL != "" && c.Token != "":
		d.errorf(o.lineOf("token"), o.at("token"), "set either webhook_url, or token and channel, not both")
	case c.WebhookURL == "" && c.Token == "":
		d.missing(o, "webhook_url", "or token and channel to post with the Web API")
	case c.Token != "" && c.Channel == "":
		d.missing(o, "channel", "posting with a token needs a channel")
	case c.WebhookURL != "" && c.Channel != "":
		d.errorf(o.lineOf("channel"), o.at("channel"), "only used with token (an incoming webhook always posts to its own channel)")
	}
}

var webhookMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func (d *decoder) webhookSink(o *object, s *Sink) {
	c := &WebhookSink{Method: DefaultWebhookMethod, Timeout: DefaultHTTPTimeout}
	s.Webhook = c
	if d.sinkSecret(o, "url", &c.URL) {
		d.secretURL(o, "url", string(c.URL))
	} else {
		d.missing(o, "url", "")
	}
	if d.str(o, "method", &c.Method) {
		c.Method = strings.ToUpper(c.Method)
		if !contains(webhookMethods, c.Method) {
			d.errorf(o.lineOf("method"), o.at("method"), "must be one of %s, got %q", quoteList(webhookMethods, "or"), c.Method)
		}
	}
	h := d.sub(o, "headers", nil)
	for _, name := range h.order {
		d.checkHeaderName(h, name)
		var v Secret
		if d.sinkSecret(h, name, &v) {
			if c.Headers == nil {
				c.Headers = map[string]Secret{}
			}
			c.Headers[name] = v
		}
	}
	d.duration(o, "timeout", &c.Timeout, false)
	d.sinkSecret(o, "signing_secret", &c.SigningSecret)
}

var smtpKeys = []string{"host", "port", "username", "password", "tls", "ca_file", "timeout"}

func (d *decoder) emailSink(o *object, s *Sink) {
	c := &EmailSink{SMTP: SMTP{TLS: "starttls", Timeout: DefaultSMTPTimeout}}
	s.Email = c
	m := d.sub(o, "smtp", smtpKeys)
	if !d.str(m, "host", &c.SMTP.Host) {
		d.missing(m, "host", "")
	}
	d.enum(m, "tls", &c.SMTP.TLS, smtpTLSModes...)
	c.SMTP.Port = 587
	if c.SMTP.TLS == "implicit" {
		c.SMTP.Port = 465
	}
	if d.integer(m, "port", &c.SMTP.Port, 1) && c.SMTP.Port > 65535 {
		d.errorf(m.lineOf("port"), m.at("port"), "must be a port from 1 to 65535, got %d", c.SMTP.Port)
	}
	d.str(m, "username", &c.SMTP.Username)
	d.sinkSecret(m, "password", &c.SMTP.Password)
	if (c.SMTP.Username == "") != (c.SMTP.Password == "") {
		key := "password"
		if c.SMTP.Username == "" {
			key = "username"
		}
		d.missing(m, key, "username and password go together")
	}
	d.path(m, "ca_file", &c.SMTP.CAFile)
	d.duration(m, "timeout", &c.SMTP.Timeout, false)
	if !d.str(o, "from", &c.From) {
		d.missing(o, "from", "")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		d.errorf(o.lineOf("from"), o.at("from"), "must be an email address such as \"Switchboard <relay@example.com>\", got %q", c.From)
	}
}

// secretURL checks a URL whose value must never be shown.
func (d *decoder) secretURL(o *object, key, v string) {
	if !isHTTPURL(v) {
		d.errorf(o.lineOf(key), o.at(key), "must be an absolute http or https URL (the value is a secret, so it is not shown)")
	}
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// checkHeaderName reports a header name that HTTP does not allow.
func (d *decoder) checkHeaderName(o *object, name string) {
	ok := name != ""
	for _, c := range name {
		if c > 126 || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			ok = false
		}
	}
	if !ok {
		d.errorf(o.keys[name].Line, o.at(name), "not a valid HTTP header name")
	}
}

// requireOne reports key as missing from an action when ok is false.
func (d *decoder) requireOne(o *object, ok bool, key, why string) {
	if !ok {
		d.missing(o, key, why)
	}
}

// missing reports key as missing from o, with why in parentheses when not empty, unless its value
// was already reported as wrong (an unset environment variable, say).
func (d *decoder) missing(o *object, key, why string) {
	path := o.at(key)
	if d.suggested[path] {
		return
	}
	for _, e := range d.errs {
		if e.Path == path {
			return
		}
	}
	if why != "" {
		why = " (" + why + ")"
	}
	d.errorf(o.line, o.path, "missing required key %q%s", key, why)
}
