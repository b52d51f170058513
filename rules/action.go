package rules

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
)

// action is one compiled action. A nil template or node means the key was absent.
type action struct {
	index    int
	sink     string
	sinkType string

	text, subject, html *template
	to, cc              []*template
	headers             []header // sorted by name
	blocks, body        *node
}

type header struct {
	name string
	tmpl *template
}

// escapers says how values from the call are escaped in each field, per sink type. A sink type not
// listed (a log sink, or one this version does not know) renders every field, escaping only text the
// Slack way. blockURLs applies instead of blocks to the value of a URL key in blocks (see urlKey).
var escapers = map[string]struct {
	text, subject, html, addr, header, blocks, blockURLs, body escaper
}{
	"slack":   {text: escapeSlack, blocks: escapeSlack, blockURLs: escapeURL},
	"webhook": {header: escapeHTTPHeader},
	"email":   {subject: escapeHeaderLine, addr: escapeHeaderLine, html: escapeHTML},
	"log":     {text: escapeSlack},
}

// compileAction compiles the templates of one action. It returns nil after recording an error.
func (c *compiler) compileAction(a *config.Action, sinkType, path string) *action {
	before := len(c.errs)
	out := &action{sink: a.Sink, sinkType: sinkType}
	tmpl := func(t config.Template, key string) *template {
		if t.Text == "" {
			return nil
		}
		return c.compileTemplate(t.Text, t.Line, t.Block, path+"."+key)
	}
	out.text = tmpl(a.Text, "text")
	out.subject = tmpl(a.Subject, "subject")
	out.html = tmpl(a.HTML, "html")
	for i, t := range a.To {
		if ct := tmpl(t, fmt.Sprintf("to[%d]", i)); ct != nil {
			out.to = append(out.to, ct)
		}
	}
	for i, t := range a.Cc {
		if ct := tmpl(t, fmt.Sprintf("cc[%d]", i)); ct != nil {
			out.cc = append(out.cc, ct)
		}
	}
	for name, t := range a.Headers {
		if ct := c.compileTemplate(t.Text, t.Line, t.Block, childPath(path+".headers", name)); ct != nil {
			out.headers = append(out.headers, header{name: name, tmpl: ct})
		}
	}
	slices.SortFunc(out.headers, func(x, y header) int { return strings.Compare(x.name, y.name) })
	if a.Blocks != nil {
		out.blocks = c.compileNode(a.Blocks, path+".blocks", 0)
	}
	if a.Body != nil {
		out.body = c.compileNode(a.Body, path+".body", 0)
	}
	if len(c.errs) > before {
		return nil
	}
	return out
}

// addresses renders one `to` or `cc` entry. An entry that is exactly one {{ }} giving a list adds
// each element as an address; empty addresses are dropped.
func addresses(st *state, t *template, esc escaper) ([]string, error) {
	if t.lone() {
		v, err := st.run(t.segs[0].prog)
		if err != nil {
			return nil, &templateError{src: "{{ " + t.segs[0].src + " }}", msg: runtimeMessage(err)}
		}
		var items []any
		switch v := v.(type) {
		case []any:
			items = v
		case []string:
			for _, s := range v {
				items = append(items, s)
			}
		}
		if items != nil {
			var out []string
			for _, item := range items {
				b, err := appendFormatted(nil, item, esc)
				if err != nil {
					return nil, &templateError{src: "{{ " + t.segs[0].src + " }}", msg: err.Error()}
				}
				if s := strings.TrimSpace(string(b)); s != "" {
					out = append(out, s)
				}
			}
			return out, nil
		}
	}
	s, err := t.render(st, esc)
	if s = strings.TrimSpace(s); err != nil || s == "" {
		return nil, err
	}
	return []string{s}, nil
}

// render builds the action's message for its sink type:
// slack: Text and Blocks; webhook: Headers and Body (the call as received when the action has no
// body); email: To, Cc, Subject, Text and HTML; log and any other type: every field the action has.
// Empty recipients (an address template that rendered to nothing) are dropped; see addresses.
func (a *action) render(st *state) (*sinks.Message, error) {
	esc := escapers[a.sinkType]
	m := &sinks.Message{}
	var err error
	field := func(t *template, dst *string, e escaper, key string) {
		if t == nil || err != nil {
			return
		}
		if *dst, err = t.render(st, e); err != nil {
			err = fmt.Errorf("render %s: %w", key, err)
		}
	}
	structure := func(n *node, e, urlE escaper, key string) []byte {
		if n == nil || err != nil {
			return nil
		}
		st.out, err = n.appendJSON(st, st.out[:0], e, urlE)
		if err != nil {
			err = fmt.Errorf("render %s: %w", key, err)
			return nil
		}
		return bytes.Clone(st.out)
	}
	addrs := func(ts []*template, key string) []string {
		var out []string
		for i, t := range ts {
			if err != nil {
				return nil
			}
			var list []string
			list, err = addresses(st, t, esc.addr)
			if err != nil {
				err = fmt.Errorf("render %s[%d]: %w", key, i, err)
			}
			out = append(out, list...)
		}
		return out
	}

	all := a.sinkType != "slack" && a.sinkType != "webhook" && a.sinkType != "email"
	if all || a.sinkType == "slack" || a.sinkType == "email" {
		field(a.text, &m.Text, esc.text, "text")
	}
	if all || a.sinkType == "slack" {
		m.Blocks = structure(a.blocks, esc.blocks, esc.blockURLs, "blocks")
	}
	if all || a.sinkType == "email" {
		m.To = addrs(a.to, "to")
		m.Cc = addrs(a.cc, "cc")
		field(a.subject, &m.Subject, esc.subject, "subject")
		field(a.html, &m.HTML, esc.html, "html")
	}
	if all || a.sinkType == "webhook" {
		for _, h := range a.headers {
			var v string
			field(h.tmpl, &v, esc.header, "headers."+h.name)
			if m.Headers == nil {
				m.Headers = make(map[string]string, len(a.headers))
			}
			m.Headers[h.name] = v
		}
		m.Body = structure(a.body, esc.body, esc.body, "body")
		if a.body == nil && a.sinkType == "webhook" {
			m.Body = st.call.Raw
		}
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}
