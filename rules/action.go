package rules

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// action is one compiled action: the keys its sink's type renders, in the order of the type's
// action keys (sinks/catalog.ActionKeys), each with its escaping.
type action struct {
	index    int
	sink     string
	sinkType string
	keys     []actionKey
}

// actionKey is one compiled action key; which of its fields is set depends on kind.
type actionKey struct {
	name   string
	kind   spec.ActionKind
	prefix []byte // the name as JSON with its colon
	// esc escapes values from the call; urlEsc those in the value of a URL key of a tree.
	esc, urlEsc escaper
	tmpl        *template   // ActionTemplate
	list        []*template // ActionAddresses
	entries     []entry     // ActionTemplateMap
	tree        *node       // ActionTree, ActionTreeList
	// call marks a CallWhenAbsent key the action does not set: it renders the call as received.
	call bool
}

// entry is one entry of an ActionTemplateMap.
type entry struct {
	name string
	key  []byte // the name as JSON with its colon
	tmpl *template
}

// compileAction compiles the keys of one action for its sink's type t. It returns nil after
// recording an error.
func (c *compiler) compileAction(a *config.Action, t *spec.Descriptor, path string) *action {
	before := len(c.errs)
	out := &action{sink: a.Sink, sinkType: t.Type}
	for _, k := range catalog.ActionKeys(t) {
		ck := actionKey{name: k.Name, kind: k.Kind, prefix: append(appendJSONString(nil, k.Name, nil), ':'), esc: k.Escape, urlEsc: k.URLEscape}
		if ck.urlEsc == nil {
			ck.urlEsc = ck.esc
		}
		v := a.Value(k.Name)
		if v == nil {
			if k.CallWhenAbsent {
				ck.call = true
				out.keys = append(out.keys, ck)
			}
			continue
		}
		at := path + "." + k.Name
		switch v.Kind {
		case spec.ActionTemplate:
			ck.tmpl = c.compileTemplate(v.Template.Text, v.Template.Line, v.Template.Block, at)
		case spec.ActionAddresses:
			for i, t := range v.Templates {
				if ct := c.compileTemplate(t.Text, t.Line, t.Block, fmt.Sprintf("%s[%d]", at, i)); ct != nil {
					ck.list = append(ck.list, ct)
				}
			}
		case spec.ActionTemplateMap:
			for _, e := range v.Map {
				if ct := c.compileTemplate(e.Template.Text, e.Template.Line, e.Template.Block, childPath(at, e.Name)); ct != nil {
					ck.entries = append(ck.entries, entry{name: e.Name, key: append(appendJSONString(nil, e.Name, nil), ':'), tmpl: ct})
				}
			}
		default:
			ck.tree = c.compileNode(v.Tree, at, 0)
		}
		ck.kind = v.Kind
		out.keys = append(out.keys, ck)
	}
	if len(c.errs) > before {
		return nil
	}
	return out
}

// addresses renders one entry of an ActionAddresses. An entry that is exactly one {{ }} giving a
// list adds each element as an address; empty addresses are dropped.
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

// render builds the action's message: a JSON object with one member per key, in the order of the
// type's action keys, leaving out a key that renders empty (see spec.ActionKind).
func (a *action) render(st *state) (sinks.Message, error) {
	out := append(st.out[:0], '{')
	defer func() { st.out = out[:0] }()
	for i := range a.keys {
		k := &a.keys[i]
		mark := len(out)
		if mark > 1 {
			out = append(out, ',')
		}
		out = append(out, k.prefix...)
		var empty bool
		var err error
		if out, empty, err = k.appendValue(st, out); err != nil {
			return nil, err
		}
		if empty {
			out = out[:mark]
		}
	}
	out = append(out, '}')
	return sinks.Message(bytes.Clone(out)), nil
}

// appendValue appends the key's rendered value to dst; empty reports a value to leave out.
func (k *actionKey) appendValue(st *state, dst []byte) (_ []byte, empty bool, err error) {
	switch {
	case k.call:
		// The call as received: it was decoded, so it is JSON.
		raw := bytes.TrimSpace(st.call.Raw)
		return append(dst, raw...), len(raw) == 0, nil
	case k.tmpl != nil:
		start := len(st.buf)
		st.buf, err = k.tmpl.appendString(st, st.buf, k.esc)
		if err == nil && len(st.buf) > start {
			dst = appendJSONText(dst, st.buf[start:])
		}
		empty = len(st.buf) == start
		st.buf = st.buf[:start]
		if err != nil {
			return dst, false, fmt.Errorf("render %s: %w", k.name, err)
		}
		return dst, empty, nil
	case k.kind == spec.ActionAddresses:
		n := 0
		dst = append(dst, '[')
		for i, t := range k.list {
			list, err := addresses(st, t, k.esc)
			if err != nil {
				return dst, false, fmt.Errorf("render %s[%d]: %w", k.name, i, err)
			}
			for _, s := range list {
				if n > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, s, nil)
				n++
			}
		}
		return append(dst, ']'), n == 0, nil
	case k.kind == spec.ActionTemplateMap:
		dst = append(dst, '{')
		for i, e := range k.entries {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, e.key...)
			start := len(st.buf)
			st.buf, err = e.tmpl.appendString(st, st.buf, k.esc)
			if err != nil {
				st.buf = st.buf[:start]
				return dst, false, fmt.Errorf("render %s.%s: %w", k.name, e.name, err)
			}
			dst = appendJSONText(dst, st.buf[start:])
			st.buf = st.buf[:start]
		}
		return append(dst, '}'), len(k.entries) == 0, nil
	case k.tree != nil:
		if dst, err = k.tree.appendJSON(st, dst, k.esc, k.urlEsc); err != nil {
			return dst, false, fmt.Errorf("render %s: %w", k.name, err)
		}
		return dst, false, nil
	}
	return dst, true, nil
}
