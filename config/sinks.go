package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// A sink's keys come from its type's descriptor (sinks/spec), found in sinks/catalog: the decoder
// reads them generically, checking each value against its spec.Key, then hands them to the type's
// Decode. Adding a sink type changes nothing here.

var commonSinkKeys = []string{"type", "rate_limit", "retry", "concurrency", "hold_after", "probe_interval"}

// SinkTypes returns the names of the sink types the config accepts.
func SinkTypes() []string { return catalog.Names() }

// keyNames returns the names of keys.
func keyNames(keys []spec.Key) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return names
}

// allSinkKeys is every key any sink type takes, which is what a type that AcceptsAll accepts.
func allSinkKeys() []string {
	keys := append([]string(nil), commonSinkKeys...)
	for _, t := range catalog.Types {
		for _, k := range t.Keys {
			if !contains(keys, k.Name) {
				keys = append(keys, k.Name)
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
	if typ != nil && !typ.AcceptsAll {
		known = append(append([]string(nil), commonSinkKeys...), keyNames(typ.Keys)...)
	}
	for _, key := range o.order {
		if contains(known, key) {
			continue
		}
		kl := o.keys[key].Line
		if contains(allSinkKeys(), key) {
			d.errorf(kl, o.at(key), "not used by %s sinks (they take: %s)", typ.Type, strings.Join(known, ", "))
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
	s.Spec = typ
	if s.RateLimit == nil && typ.DefaultRate != "" {
		s.RateLimit, _ = parseRate(typ.DefaultRate)
	}
	vals := &values{set: map[string]bool{}, v: map[string]any{}}
	objs := map[string]*object{"": o}
	if !typ.AcceptsAll {
		d.sinkKeys(o, "", typ.Keys, vals, objs, s)
	}
	settings, problems := typ.Decode(vals)
	s.Settings = settings
	for _, p := range problems {
		d.problem(objs, o, p)
	}
	return s
}

// sinkTypeOf reads the type key into s.Type and returns its descriptor, or nil when it is missing
// or unknown (s.Type then keeps what was written).
func (d *decoder) sinkTypeOf(o *object, s *Sink) *spec.Descriptor {
	if !d.str(o, "type", &s.Type) {
		d.missing(o, "type", "one of "+quoteList(SinkTypes(), "or"))
		return nil
	}
	t := catalog.Lookup(strings.ToLower(s.Type))
	if t == nil {
		d.errorf(o.lineOf("type"), o.at("type"), "must be one of %s, got %q", quoteList(SinkTypes(), "or"), s.Type)
		return nil
	}
	s.Type = t.Type
	return t
}

// sinkKeys reads keys from o into vals, naming each prefix+key, checking each value against its
// spec.Key and applying defaults. objs gets each object read, by prefix, for problem; s gets the
// key marked Timeout.
func (d *decoder) sinkKeys(o *object, prefix string, keys []spec.Key, vals *values, objs map[string]*object, s *Sink) {
	for _, k := range keys {
		name := prefix + k.Name
		if k.Default != "" {
			vals.v[name] = defaultValue(k)
		}
		if k.Kind == spec.KindObject {
			m := d.sub(o, k.Name, keyNames(k.Keys))
			objs[name] = m
			d.sinkKeys(m, name+".", k.Keys, vals, objs, s)
			continue
		}
		v, ok := d.sinkValue(o, k)
		if ok {
			vals.v[name], vals.set[name] = v, true
		} else if k.Required {
			d.missing(o, k.Name, "")
		}
		if k.Timeout {
			s.timeoutKey = name
			s.timeout, _ = vals.v[name].(time.Duration)
		}
	}
}

// sinkValue reads the value of k from o, checked against its kind; ok is false when it is absent
// or wrong (reported).
func (d *decoder) sinkValue(o *object, k spec.Key) (v any, ok bool) {
	switch k.Kind {
	case spec.KindDuration:
		return readAs(o, k.Name, func(o *object, key string, dst *time.Duration) bool { return d.duration(o, key, dst, false) })
	case spec.KindInteger, spec.KindPort:
		var i int
		min, max, msg := k.Min, k.Max, "must be at most %[1]d, got %[2]d"
		if k.Kind == spec.KindPort {
			min, max, msg = 1, 65535, "must be a port from 1 to %[1]d, got %[2]d"
		}
		if ok = d.integer(o, k.Name, &i, min); ok && max > 0 && i > max {
			d.errorf(o.lineOf(k.Name), o.at(k.Name), msg, max, i)
			ok = false
		}
		return i, ok
	case spec.KindBoolean:
		return readAs(o, k.Name, d.boolean)
	case spec.KindEnum:
		return readAs(o, k.Name, func(o *object, key string, dst *string) bool { return d.enum(o, key, dst, k.Enum...) })
	case spec.KindPath:
		return readAs(o, k.Name, d.path)
	case spec.KindHeaderSecrets:
		h := d.sub(o, k.Name, nil)
		headers := map[string]Secret{}
		for _, name := range h.order {
			d.checkHeaderName(h, name)
			var sec Secret
			if d.sinkSecret(h, name, &sec) {
				headers[name] = sec
			}
		}
		return headers, len(headers) > 0
	}
	// Text: a string, a secret, a URL or an email address.
	secret := k.Kind == spec.KindSecret || k.Kind == spec.KindSecretURL
	if secret {
		d.warnEmptyRefs(o, k.Name)
	}
	str, ok := d.scalar(o, k.Name)
	if !ok {
		return nil, false
	}
	msg := ""
	switch k.Kind {
	case spec.KindURL:
		if !isHTTPURL(str) {
			msg = fmt.Sprintf("must be an absolute http or https URL, got %q", str)
		}
	case spec.KindSecretURL:
		if !isHTTPURL(str) {
			msg = "must be an absolute http or https URL (the value is a secret, so it is not shown)"
		}
	case spec.KindEmail:
		if _, err := mail.ParseAddress(str); err != nil {
			msg = fmt.Sprintf("must be an email address such as \"Switchboard <relay@example.com>\", got %q", str)
		}
	}
	if msg != "" {
		d.errorf(o.lineOf(k.Name), o.at(k.Name), "%s", msg)
		return nil, false
	}
	if secret {
		return Secret(str), true
	}
	return str, true
}

// readAs reads key from o with read, giving its value as any.
func readAs[T any](o *object, key string, read func(o *object, key string, dst *T) bool) (any, bool) {
	var v T
	ok := read(o, key, &v)
	return v, ok
}

// defaultValue is k's Default as the value of its kind.
func defaultValue(k spec.Key) any {
	switch k.Kind {
	case spec.KindDuration:
		dur, _ := time.ParseDuration(k.Default)
		return dur
	case spec.KindInteger, spec.KindPort:
		i, _ := strconv.Atoi(k.Default)
		return i
	case spec.KindBoolean:
		return k.Default == "true"
	case spec.KindSecret, spec.KindSecretURL:
		return Secret(k.Default)
	}
	return k.Default
}

// problem reports what a type's Decode found, at the key it names ("smtp.password" is the password
// key of the smtp object), as "sinks.<name>.<key>: msg".
func (d *decoder) problem(objs map[string]*object, top *object, p spec.Problem) {
	o, leaf := top, p.Key
	if i := strings.LastIndexByte(p.Key, '.'); i >= 0 {
		if sub := objs[p.Key[:i]]; sub != nil {
			o, leaf = sub, p.Key[i+1:]
		}
	}
	if p.Missing {
		d.missing(o, leaf, p.Msg)
		return
	}
	if leaf == "" {
		d.errorf(o.line, o.path, "%s", p.Msg)
		return
	}
	d.errorf(o.lineOf(leaf), o.at(leaf), "%s", p.Msg)
}

// values are a sink's decoded config values, as its type's Decode reads them (spec.Values).
type values struct {
	set map[string]bool
	v   map[string]any
}

// valueAs is the value at key as a T; the zero T when it is absent (or of another kind).
func valueAs[T any](v *values, key string) T {
	x, _ := v.v[key].(T)
	return x
}

func (v *values) Has(key string) bool                  { return v.set[key] }
func (v *values) String(key string) string             { return valueAs[string](v, key) }
func (v *values) Secret(key string) Secret             { return valueAs[Secret](v, key) }
func (v *values) Duration(key string) time.Duration    { return valueAs[time.Duration](v, key) }
func (v *values) Integer(key string) int               { return valueAs[int](v, key) }
func (v *values) Boolean(key string) bool              { return valueAs[bool](v, key) }
func (v *values) Headers(key string) map[string]Secret { return valueAs[map[string]Secret](v, key) }

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
