package email

import (
	"encoding/json"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/escape"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Spec declares the email sink type.
var Spec = &spec.Descriptor{
	Type: "email",
	Doc:  "sends each message as one email through an SMTP server",
	Keys: []spec.Key{
		{Name: "smtp", Kind: spec.KindObject, Keys: []spec.Key{
			{Name: "host", Kind: spec.KindString, Required: true, Doc: "SMTP server host name"},
			{Name: "port", Kind: spec.KindPort, Doc: "SMTP port, 1–65535; by default `587`, or `465` with `tls: implicit`"},
			{Name: "username", Kind: spec.KindString, Doc: "login; `username` and `password` go together"},
			{Name: "password", Kind: spec.KindSecret, Doc: "**secret**"},
			{Name: "tls", Kind: spec.KindEnum, Enum: []string{TLSStartTLS, TLSImplicit, TLSNone}, Default: TLSStartTLS,
				Doc: "`starttls` (port 587), `implicit` (TLS from the first byte, port 465) or `none` (a local relay)"},
			{Name: "ca_file", Kind: spec.KindPath, Doc: "a PEM file of extra root certificates, for a relay with a private CA, relative to the config file's folder; read when the sink is built, so `check` reports a missing or unreadable file"},
			{Name: "timeout", Kind: spec.KindDuration, Default: DefaultTimeout.String(), Timeout: true, Doc: "time allowed for one attempt"},
		}},
		{Name: "from", Kind: spec.KindEmail, Required: true, Doc: "sender address, `relay@example.com` or `\"Switchboard <relay@example.com>\"`"},
	},
	ActionKeys: []spec.ActionKey{
		{Name: "to", Kind: spec.ActionAddresses, Escape: escape.HeaderLine, Doc: "recipients: an address, a template, or a list of them"},
		{Name: "cc", Kind: spec.ActionAddresses, Escape: escape.HeaderLine, Doc: "copy recipients, like `to`"},
		{Name: "subject", Kind: spec.ActionTemplate, Escape: escape.HeaderLine, Doc: "the subject line"},
		{Name: "text", Kind: spec.ActionTemplate, Doc: "the plain-text body"},
		{Name: "html", Kind: spec.ActionTemplate, Escape: escape.HTML, Doc: "an HTML body, sent as the alternative to text"},
	},
	Decode:      decodeSettings,
	CheckAction: checkAction,
	New:         spec.Construct(New),
	Notice: func(n spec.Notice) (sinks.Message, error) {
		return json.Marshal(Message{To: n.To, Subject: n.Subject, Text: n.Text})
	},
	NoticeTo: true,
	TestMark: "subject",
}

// Settings are an email sink's config.
type Settings struct {
	SMTP SMTP
	From string
}

// SMTP is an email sink's server.
type SMTP struct {
	Host     string
	Port     int // default 587 for starttls and none, 465 for implicit
	Username string
	Password spec.Secret
	TLS      string // "starttls" (default), "implicit" or "none"
	// CAFile is a PEM file of extra roots for a relay with a private CA, resolved against the config
	// file's folder.
	CAFile  string
	Timeout time.Duration // default 30s
}

// Message is what an email action renders to (see Spec's ActionKeys).
type Message struct {
	To      []string `json:"to,omitempty"`
	Cc      []string `json:"cc,omitempty"`
	Subject string   `json:"subject,omitempty"`
	Text    string   `json:"text,omitempty"`
	HTML    string   `json:"html,omitempty"`
}

func decodeSettings(v spec.Values) (any, []spec.Problem) {
	s := &Settings{From: v.String("from"), SMTP: SMTP{Host: v.String("smtp.host"), Port: v.Integer("smtp.port"),
		Username: v.String("smtp.username"), Password: v.Secret("smtp.password"), TLS: v.String("smtp.tls"),
		CAFile: v.String("smtp.ca_file"), Timeout: v.Duration("smtp.timeout")}}
	if !v.Has("smtp.port") {
		s.SMTP.Port = DefaultPort
		if s.SMTP.TLS == TLSImplicit {
			s.SMTP.Port = DefaultImplicitPort
		}
	}
	var ps []spec.Problem
	if (s.SMTP.Username == "") != (s.SMTP.Password == "") {
		key := "smtp.password"
		if s.SMTP.Username == "" {
			key = "smtp.username"
		}
		ps = append(ps, spec.Problem{Key: key, Missing: true, Msg: "username and password go together"})
	}
	return s, ps
}

func checkAction(a spec.Action) []spec.Problem {
	var ps []spec.Problem
	if !a.Has("to") {
		ps = append(ps, spec.Problem{Key: "to", Missing: true, Msg: "email actions need at least one recipient"})
	}
	if !a.Has("subject") {
		ps = append(ps, spec.Problem{Key: "subject", Missing: true})
	}
	if !a.Has("text") && !a.Has("html") {
		ps = append(ps, spec.Problem{Key: "text", Missing: true, Msg: "email actions need text, html or both"})
	}
	return ps
}
