package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

var (
	notifyKeys      = []string{"dead_letters", "sink_down"}
	deadLettersKeys = []string{"sink", "group_wait", "text", "to"}
	sinkDownKeys    = []string{"sink", "to"}
)

// Defaults and bounds of the notify section.
const (
	DefaultGroupWait = 30 * time.Second
	MinGroupWait     = time.Second
)

// Notify is the `notify:` block: who is told when deliveries fail. Nil fields are not notified.
type Notify struct {
	DeadLetters *DeadLettersNotify
	SinkDown    *SinkDownNotify
}

// DeadLettersNotify tells a sink about deliveries that died, grouped: every delivery that dies
// within GroupWait of the first shares one message.
type DeadLettersNotify struct {
	Sink      string
	Line      int // of the dead_letters key
	GroupWait time.Duration
	// Text, when set, replaces the default message; it is a template over the group (see docs/config.md).
	Text Template
	// To are the recipients, for a sink type with NoticeTo (email's addresses).
	To []string
}

// SinkDownNotify tells a sink when another sink is held, and again when it recovers.
type SinkDownNotify struct {
	Sink string
	Line int // of the sink_down key
	// To are the recipients, for a sink type with NoticeTo (email's addresses).
	To []string
}

// notify reads the notify section; sinks must be decoded first.
func (d *decoder) notify(top *object, cfg *Config) Notify {
	var n Notify
	o := d.sub(top, "notify", notifyKeys)
	if o.has("dead_letters") {
		dl := d.sub(o, "dead_letters", deadLettersKeys)
		n.DeadLetters = &DeadLettersNotify{Line: dl.line, GroupWait: DefaultGroupWait}
		d.notifySink(dl, cfg, &n.DeadLetters.Sink, &n.DeadLetters.To)
		if d.duration(dl, "group_wait", &n.DeadLetters.GroupWait, false) && n.DeadLetters.GroupWait < MinGroupWait {
			d.errorf(dl.lineOf("group_wait"), dl.at("group_wait"), "must be at least 1s, got %s", n.DeadLetters.GroupWait)
		}
		n.DeadLetters.Text = d.template(dl, "text")
	}
	if o.has("sink_down") {
		sd := d.sub(o, "sink_down", sinkDownKeys)
		n.SinkDown = &SinkDownNotify{Line: sd.line}
		d.notifySink(sd, cfg, &n.SinkDown.Sink, &n.SinkDown.To)
	}
	return n
}

// notifySink reads a notification's sink, which must be defined, and its recipients (to), which a
// type with NoticeTo needs (email's addresses) and only such a type, or one that AcceptsAll, takes.
func (d *decoder) notifySink(o *object, cfg *Config, dst *string, to *[]string) {
	if o.bad {
		return
	}
	var entries []Template
	if o.has("to") {
		entries = d.addresses(o, "to", false)
	}
	for _, t := range entries {
		if strings.Contains(t.Text, "{{") {
			d.errorf(t.Line, o.at("to"), "must be written out: a notification has no call to take it from, got %q", t.Text)
			continue
		}
		*to = append(*to, t.Text)
	}
	if !d.str(o, "sink", dst) {
		d.missing(o, "sink", "name the sink that receives these notifications")
		return
	}
	s := cfg.Sink(*dst)
	if s == nil {
		defined := "no sinks are defined"
		if len(cfg.Sinks) > 0 {
			names := make([]string, len(cfg.Sinks))
			for i, s := range cfg.Sinks {
				names[i] = s.Name
			}
			defined = "defined: " + strings.Join(quoteAll(names), ", ")
		}
		d.errorf(o.lineOf("sink"), o.at("sink"), "undefined sink %q (%s)", *dst, defined)
		return
	}
	typ := s.Spec
	if typ == nil {
		return
	}
	switch {
	case typ.NoticeTo && len(*to) == 0:
		d.missing(o, "to", fmt.Sprintf("%s %s sink needs whom to notify", article(typ.Type), typ.Type))
	case !typ.NoticeTo && !typ.AcceptsAll && o.has("to"):
		var takers []string
		for _, t := range catalog.Types {
			if t.NoticeTo {
				takers = append(takers, t.Type)
			}
		}
		d.errorf(o.lineOf("to"), o.at("to"), "not used by %s sinks: only %s sinks take it", typ.Type, quoteList(takers, "or"))
	case typ.NoticeTo:
		if k := actionKey(typ.ActionKeys, "to"); k != nil && k.Kind == spec.ActionAddresses {
			for _, t := range entries {
				if _, err := mail.ParseAddress(t.Text); err != nil && !strings.Contains(t.Text, "{{") {
					d.errorf(t.Line, o.at("to"), "must be an email address such as \"sales@example.com\", got %q", t.Text)
				}
			}
		}
	}
}

// article is "an" before a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// publicURL reads server.public_url: an absolute http(s) URL without query or fragment; a trailing
// slash is dropped.
func (d *decoder) publicURL(o *object, dst *string) {
	var v string
	if !d.str(o, "public_url", &v) {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		d.errorf(o.lineOf("public_url"), o.at("public_url"), "must be the URL at which people reach this server, such as \"https://switchboard.example.com\", got %q", v)
		return
	}
	*dst = strings.TrimRight(v, "/")
}
