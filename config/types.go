// Package config loads Switchboard's YAML configuration: ${ENV} expansion, strict decoding, defaults and
// validation, reporting every problem at once as "file:line: key.path: what is wrong".
//
// The types here are the contract between the config file and the rest of Switchboard: rules compiles
// Rule and Action, sinks are built from Sink, and serve reads Server and Storage.
//
// ${VAR} and ${VAR:-default} are expanded inside scalar values after the YAML is parsed, not in the
// raw text: a value holding ": " or "#" (a URL fragment, a token) cannot break the YAML, and every
// line number stays that of the file as written. Expansion applies to every value, template strings
// included (a when, a text, each string in blocks and body); it never applies to keys. $$ is a
// literal $ (write $${{ price }} for a dollar sign before a template), and any other $ is kept as
// written. A value that is empty after expansion counts as absent, so its default applies.
//
// A relative file path in the config is relative to the config file's folder (ResolvePath). Besides
// problems, loading may find warnings (Config.Warnings): what loads but is probably a mistake.
//
// The file is decoded by walking yaml.v3 nodes rather than into tagged structs, so that every
// problem has a line and no Go type name reaches the user.
package config

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Config is a loaded, defaulted and validated configuration.
type Config struct {
	// File is the path the configuration was read from; it prefixes every error.
	File     string
	Server   Server
	Storage  Storage
	Log      Log
	Defaults DeliveryPolicy
	// Sinks are in file order; names are unique.
	Sinks []*Sink
	// Rules are in file order, the order in which they are evaluated: the config file's, then each
	// included file's (see Files).
	Rules []*Rule
	// Tests are the `tests:` of the config file, then of each included file.
	Tests []*Test
	// Files are the config file, then every file `include:` read, in the order read.
	Files []string
	// Schema is the declared call schema (`schema:`); nil when there is none.
	Schema *Schema
	// Notify says who is told when deliveries fail.
	Notify Notify
	// Warnings are what loads but is probably a mistake (a ${VAR} that makes a secret empty), sorted
	// by line, each with Warning set. They never make a config invalid: `check` prints them like
	// problems and still exits 0, and `serve` logs them at warn level at start and on each reload.
	// Parse fills them; later stages append theirs (relay.Load merges them with its problems).
	Warnings Errors
}

// Sink returns the sink with the given name, or nil.
func (c *Config) Sink(name string) *Sink {
	for _, s := range c.Sinks {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Server is the `server:` block.
type Server struct {
	Listen      string // default ":8080"
	WebhookPath string // default "/webhooks/intellixent"
	// AuthToken, when set, must accompany every webhook as "Authorization: Bearer" or "?token=".
	// Empty means no authentication (serve warns at start).
	AuthToken    Secret
	MaxBodyBytes Size // default 4 MiB
	// AdminToken guards /api/* and /-/reload. Empty means those routes answer only on loopback.
	AdminToken Secret
	// TLS, when set, makes the server speak HTTPS (see tls.go).
	TLS *TLS
	// PublicURL is the URL at which people reach this server, without a trailing slash; empty when
	// unset. Notifications link to calls under it.
	PublicURL string
}

// Storage is the `storage:` block.
type Storage struct {
	Driver string // "sqlite" (default) or "postgres"
	// Path is the sqlite file, default "./data/switchboard.db"; resolved against the config file's
	// folder (see ResolvePath), so it is absolute unless the config file was named by an empty path.
	Path string
	DSN  Secret // postgres connection string
	// Retention is how long calls and finished deliveries are kept; default 720h. Zero keeps forever.
	Retention time.Duration
	// DeadLetterRetention is how long dead deliveries, and the calls they belong to, are kept unless
	// replayed; default 2160h, never less than Retention. Zero keeps them until replayed.
	DeadLetterRetention time.Duration
	// Lease is how long a worker reserves a delivery it is sending; when a replica dies mid-send,
	// another retries the delivery after this. Default 2m; it must exceed the longest sink timeout.
	Lease time.Duration
}

// Log is the `log:` block.
type Log struct {
	Format string // "text" (default) or "json"
	Level  string // "debug", "info" (default), "warn", "error"
	// ShowPhoneNumbers logs phone numbers in full; by default all but the last four digits are masked.
	ShowPhoneNumbers bool
}

// DeliveryPolicy is how a sink's deliveries are sent and retried: the settings that `defaults:` sets
// and each sink may override.
type DeliveryPolicy struct {
	Retry       Retry
	Concurrency int // default 4
	// HoldAfter is how long every attempt to a sink must have failed with a retryable error before
	// the sink is held: its deliveries stop aging and one probe is tried every ProbeInterval. Default
	// 15m; zero never holds.
	HoldAfter     time.Duration
	ProbeInterval time.Duration // default 1m
}

// Retry bounds the retries of one delivery; after any bound it becomes a dead letter.
type Retry struct {
	MaxAttempts    int           // default 12
	InitialBackoff time.Duration // default 2s
	MaxBackoff     time.Duration // default 10m
	MaxAge         time.Duration // default 48h, counted from when the call was received
}

// Sink is one entry of `sinks:`. Its type's own keys are read by its descriptor (Spec) into
// Settings; a type that AcceptsAll (log) accepts, and ignores, the keys of every other type so that
// switching a sink to the log is a one-line change.
type Sink struct {
	Name string
	Type string // one of SinkTypes
	Line int

	// Delivery is the defaults with this sink's overrides applied.
	Delivery DeliveryPolicy
	// RateLimit is this sink's rate; nil means unlimited. Parse gives a sink without one its type's
	// DefaultRate (1/s for slack).
	RateLimit *Rate

	// Spec is the sink's type; nil when the type is missing or unknown (the config is then invalid).
	// JSON and YAML leave it out: Type names it.
	Spec *spec.Descriptor `json:"-" yaml:"-"`
	// Settings are what Spec.Decode made of the sink's keys: opaque to everything but Spec.New.
	Settings any

	// timeoutKey and timeout are the key marked Timeout ("smtp.timeout") and its value, for checkLease.
	timeoutKey string
	timeout    time.Duration
}

// Rule is one entry of `rules:`.
type Rule struct {
	Name string
	// File is the file the rule is written in: the config file or an included one.
	File string
	Line int
	// When is an expression that must be boolean; empty matches every call.
	When    Expr
	Stop    bool
	Actions []*Action
}

// Action is one entry of a rule's `actions:`: the sink and the keys the action sets for it. Which
// keys an action may set, and what each holds, is declared by the sink type's action keys
// (spec.ActionKey); a type that AcceptsAll takes every type's.
type Action struct {
	Sink string
	Line int
	// SinkLine is the line of the `sink:` key.
	SinkLine int
	// Values are the keys the action sets besides sink, in file order. A key whose value is empty
	// (after ${VAR} expansion) is left out.
	Values []*ActionValue
}

// Value returns the key named name, or nil when the action does not set it.
func (a *Action) Value(name string) *ActionValue {
	for _, v := range a.Values {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Has reports whether the action sets the key named name (spec.Action).
func (a *Action) Has(name string) bool { return a.Value(name) != nil }

// Literal returns the text of the ActionTemplate key named name when it holds no {{ }}, and true
// (spec.Action).
func (a *Action) Literal(name string) (string, bool) {
	v := a.Value(name)
	if v == nil || v.Kind != spec.ActionTemplate || strings.Contains(v.Template.Text, "{{") {
		return "", false
	}
	return v.Template.Text, true
}

// ActionValue is one key of an action, read as its kind says; the fields of other kinds are empty.
type ActionValue struct {
	Name string
	Kind spec.ActionKind
	// Line is the line of the key's value.
	Line int
	// Template is the value of an ActionTemplate.
	Template Template
	// Templates are the entries of an ActionAddresses.
	Templates []Template
	// Map is the entries of an ActionTemplateMap, in file order.
	Map []MapEntry
	// Tree is the structure of an ActionTree or ActionTreeList: every string scalar in it is a
	// template, ${VAR} already expanded.
	Tree *yaml.Node
}

// MapEntry is one entry of an ActionTemplateMap.
type MapEntry struct {
	Name     string
	Template Template
}

// Expr is an expr expression from the config (a rule's `when`), with the line it was written on. It
// is not a Template: it holds no {{ }}, and all of it is evaluated. Empty Text means the key was
// absent.
type Expr struct {
	Text string
	Line int
}

// Template is text with {{ }} expressions from the config, with the line it was written on. Empty
// Text means the key was absent.
type Template struct {
	Text string
	Line int
	// Block is set for a literal block scalar (`|`): its text starts on the line after Line and keeps
	// its line breaks, so the line of any part of it is Line + 1 + the breaks before that part.
	Block bool
}

// Secret is a string that never prints: fmt, JSON and YAML all show "<secret>". Use string(s) to
// read the value where it is needed. It is the sinks' spec.Secret, so that sink settings hold it too.
type Secret = spec.Secret

// Size is a byte count; the config accepts plain numbers and KiB, MiB, GiB suffixes (also KB, MB, GB
// as powers of ten).
type Size int64

// Rate is an event rate such as "1/s" or "30/m".
type Rate struct {
	Events int
	Per    time.Duration
}

// PerSecond returns the rate in events per second.
func (r Rate) PerSecond() float64 { return float64(r.Events) / r.Per.Seconds() }

// String formats the rate as it is written in the config.
func (r Rate) String() string {
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	if unit == "" {
		return fmt.Sprintf("%d/%s", r.Events, r.Per)
	}
	return fmt.Sprintf("%d/%s", r.Events, unit)
}
