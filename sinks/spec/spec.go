// Package spec is how a sink type declares itself. Each sink package exports one *Descriptor: its
// config keys (kind, default, secret or not, one line of documentation), its action keys and how
// values from a call are escaped in each, how its settings are decoded and checked, its constructor
// and how it shows a notification. The config loader, the rules engine, the registry, `check` and
// `test`, the JSON Schema and the key tables in docs/config.md all read the descriptors, so adding a
// sink type is one new package and one line in the list of sinks/catalog (see docs/sinks.md).
//
// spec is a leaf: it imports only package sinks and the standard library, so that config can read
// the descriptors without a sink package ever importing config.
package spec

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
)

// Descriptor declares one sink type.
type Descriptor struct {
	// Type is the value of the sink's `type:` key, such as "slack".
	Type string
	// Doc is one line for docs/config.md and the JSON Schema.
	Doc string
	// Keys are the type's own config keys, besides the keys every sink has (type, rate_limit, retry,
	// concurrency, hold_after, probe_interval).
	Keys []Key
	// ActionKeys are the keys an action for this type may set, besides `sink`.
	ActionKeys []ActionKey
	// AcceptsAll marks the log type: it accepts the config keys and action keys of every type (so that
	// switching a sink to the log is a one-line change) and ignores the config keys. Its action keys
	// are its own ActionKeys, then every other type's in the order of sinks/catalog; where two types
	// give one key different kinds, it takes the most general (ActionTree > ActionAddresses >
	// ActionTemplateMap > ActionTemplate). The keys it takes from other types keep their values as
	// they are (no Escape), are never Required and never CallWhenAbsent.
	AcceptsAll bool
	// DefaultRate is the rate_limit a sink of this type gets when it sets none, such as "1/s"; empty
	// means unlimited.
	DefaultRate string

	// Decode builds the type's settings from the values of its keys, with defaults applied and each
	// value already checked against its Key. It returns the problems no single key shows (two keys
	// that exclude each other, a key another one needs). The settings are opaque to everything but
	// New; they hold secrets as Secret.
	Decode func(v Values) (settings any, problems []Problem)
	// CheckAction reports what an action for this type lacks or has wrong, beyond what its ActionKeys
	// declare (for example "slack actions need text, blocks or both"). Nil checks nothing more.
	CheckAction func(a Action) []Problem
	// New builds a sink from the settings Decode returned.
	New func(name string, settings any, opts Options) (sinks.Sink, error)
	// Notice renders a notification (dead letters, a sink down or back) as this type's message.
	Notice func(n Notice) (sinks.Message, error)
	// NoticeTo makes `to` required in notify.dead_letters and notify.sink_down when they name a sink
	// of this type, and passes it in Notice.To (email's recipients, an SMS's phone number); a type
	// without it refuses `to` there, except a type that AcceptsAll, which takes `to` without needing it.
	NoticeTo bool
	// TestMark is the action key by which `switchboard send-test` marks its message as a test: an
	// ActionTemplate key (such as "text" or "subject") starts with "[test] ", an ActionTemplateMap key
	// (a webhook's "headers") gains the entry "X-Switchboard-Test: true". Empty marks nothing.
	TestMark string
}

// Kind is what a config key's value is.
type Kind int

// The kinds of config keys. The config loader checks each value against its kind (and Enum, Min,
// Max) before Decode sees it, and reports a problem with the file, line and key.
const (
	KindString        Kind = iota // any text
	KindSecret                    // text that is never printed
	KindURL                       // an absolute http or https URL
	KindSecretURL                 // an absolute http or https URL that is never printed
	KindDuration                  // a Go duration such as 10s
	KindInteger                   // a whole number from Min to Max (Max 0: no upper bound)
	KindBoolean                   // true or false
	KindEnum                      // one of Enum, any case; Values gives it in the case Enum has
	KindEmail                     // one email address, such as "Switchboard <relay@example.com>"
	KindPath                      // a file path, resolved against the config file's folder
	KindHeaderSecrets             // a mapping of HTTP header names to secret values
	KindObject                    // a mapping whose keys are Keys
	KindPort                      // a TCP port, a whole number from 1 to 65535
)

// Key is one config key of a sink type.
type Key struct {
	Name string
	Kind Kind
	// Default is the value when the key is absent, written as in the config ("10s", "POST"); empty
	// means none. A default that depends on another key (the SMTP port) is applied by Decode and only
	// described in Doc.
	Default string
	// Required reports the key as missing when it is absent.
	Required bool
	// Enum lists the values of a KindEnum key.
	Enum []string
	// Min and Max bound a KindInteger key.
	Min, Max int
	// Timeout marks the key that bounds one attempt: storage.lease must be longer than it.
	Timeout bool
	// Keys are the keys of a KindObject.
	Keys []Key
	// Doc is one line for docs/config.md and the JSON Schema.
	Doc string
}

// Values are a sink's config values, by key name; a key inside a KindObject is named with a dot
// ("smtp.host"). Defaults are applied and every value is checked against its Key; a getter for an
// absent key without a default gives the zero value.
type Values interface {
	// Has reports whether the key is set in the config (not only defaulted).
	Has(key string) bool
	// String gives a KindString, KindURL, KindEmail, KindEnum or KindPath value (a path resolved).
	String(key string) string
	// Secret gives a KindSecret or KindSecretURL value.
	Secret(key string) Secret
	Duration(key string) time.Duration
	// Integer gives a KindInteger or KindPort value.
	Integer(key string) int
	Boolean(key string) bool
	// Headers gives a KindHeaderSecrets value; nil when absent.
	Headers(key string) map[string]Secret
}

// Problem is something wrong with a sink's config or an action, found by Decode or CheckAction. The
// config loader reports it as "file:line: sinks.<name>.<Key>: <Msg>", at the line of Key (or of the
// sink or action when Key is absent from it). Msg must never include a secret's value.
type Problem struct {
	Key string
	Msg string
	// Missing reports Key as a missing required key, with Msg (if any) as the reason.
	Missing bool
}

// String words the problem without the sink's location: `missing required key "channel" (why)`
// or "key: msg", for a sink's constructor to report settings that did not come through the config.
func (p Problem) String() string {
	if p.Missing {
		s := fmt.Sprintf("missing required key %q", p.Key)
		if p.Msg != "" {
			s += " (" + p.Msg + ")"
		}
		return s
	}
	if p.Key == "" {
		return p.Msg
	}
	return p.Key + ": " + p.Msg
}

// ActionKind is what an action key's value is and what it renders to in the message.
type ActionKind int

// The kinds of action keys. A key whose value renders empty (an empty string, no addresses, no
// entries) is left out of the message, as is a key the action does not set (except CallWhenAbsent).
const (
	// ActionTemplate is a {{ }} template; it renders to a JSON string.
	ActionTemplate ActionKind = iota
	// ActionAddresses is one template or a list of them; it renders to a JSON list of strings, dropping
	// empty ones, and a template that is exactly one {{ }} giving a list adds each element. A literal
	// entry (without {{ }}) must be an email address, except in a type that AcceptsAll.
	ActionAddresses
	// ActionTemplateMap is a mapping of names to templates; it renders to a JSON object of strings whose
	// keys keep the order they are written in.
	ActionTemplateMap
	// ActionTree is any YAML structure whose every string is a template; it renders to JSON.
	ActionTree
	// ActionTreeList is an ActionTree that must be a list (Slack's blocks).
	ActionTreeList
)

// Escaper appends s to dst made inert for where the sink puts it: values from the call pass through
// it, text written in the config does not.
type Escaper func(dst []byte, s string) []byte

// ActionKey is one key an action for a sink type may set.
type ActionKey struct {
	Name string
	Kind ActionKind
	// Required reports the key as missing from an action that does not set it.
	Required bool
	// Escape makes values from the call inert in this key; nil leaves them as they are.
	Escape Escaper
	// URLEscape, for an ActionTree, replaces Escape in the value of a key that holds a URL (Slack's url,
	// image_url, …); nil uses Escape.
	URLEscape Escaper
	// CallWhenAbsent makes an action without this key send the call as received in its place (the
	// webhook's body).
	CallWhenAbsent bool
	// CheckName, for an ActionTemplateMap, checks the name of each entry (a header name, say): it
	// returns what is wrong with it, or "". Nil accepts any name.
	CheckName func(name string) string
	// ListItem, for an ActionTreeList, is how an item of the list starts, shown when a mapping is
	// written instead: "- type:" gives `must be a list of blocks (each item starting with "- type:")`.
	ListItem string
	// Doc is one line for docs/config.md and the JSON Schema.
	Doc string
}

// Action is what CheckAction sees of one action: which of its type's keys it sets, and the text of
// those that are plain text.
type Action interface {
	// Has reports whether the action sets key.
	Has(key string) bool
	// Literal returns the text of an ActionTemplate key that holds no {{ }} (after ${VAR} expansion),
	// so that a value fixed in the config can be checked when it loads; false when the key is absent,
	// of another kind, or computed from the call.
	Literal(key string) (string, bool)
}

// Options carries what every sink may use.
type Options struct {
	// Logger is the sink's logger (the log sink writes messages to it); never nil.
	Logger *slog.Logger
}

// Notice is a notification to render as a sink type's message: dead letters, or a sink down or back.
type Notice struct {
	// Kind is "dead_letters" or "sink_down".
	Kind string
	// Subject is one line that says what happened.
	Subject string
	// Text is the whole notification as plain text, not escaped: Notice escapes it for its type,
	// unless Markup is set.
	Text string
	// Markup reports that Text is already in the type's markup: it is a notify.dead_letters.text
	// template, whose literal text is the config author's and whose inserted values were escaped by
	// the Escape of the type's "text" action key. Notice must then use Text as it is.
	Markup bool
	// To is notify.*.to for a type with NoticeTo; empty otherwise.
	To []string
	// Event is the notification as a JSON object, for a type that sends structured data (webhook).
	Event json.RawMessage
}

// Construct adapts a sink package's typed constructor to Descriptor.New: settings is the *S its
// Decode returned (nil gives build a nil *S, which it reports as missing settings), and a failed
// build's typed nil never reaches the sinks.Sink it returns.
func Construct[S any, K sinks.Sink](build func(name string, settings *S, logger *slog.Logger) (K, error)) func(string, any, Options) (sinks.Sink, error) {
	return func(name string, settings any, opts Options) (sinks.Sink, error) {
		s, _ := settings.(*S)
		sink, err := build(name, s, opts.Logger)
		if err != nil {
			return nil, err
		}
		return sink, nil
	}
}
