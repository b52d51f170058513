package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// nodeKind is what one element of a body or blocks structure is.
type nodeKind int

const (
	nodeLiteral  nodeKind = iota // a value with no {{ }}, encoded once at compile time
	nodeTemplate                 // a string with {{ }} parts
	nodeMap
	nodeSeq
)

// node is a compiled body or blocks structure. Rendering writes JSON directly, keeping the YAML order
// of keys.
type node struct {
	kind nodeKind
	raw  []byte    // nodeLiteral: the JSON encoding
	tmpl *template // nodeTemplate
	keys [][]byte  // nodeMap: each key JSON-encoded with its colon
	kids []*node   // nodeMap values, nodeSeq elements
	// url marks a template that is the value of a URL key (see urlKey): it is escaped as a URL,
	// not as text.
	url bool
}

// urlKey reports whether a key of a blocks structure holds a URL: Block Kit's url (a button, a
// rich-text link), image_url, video_url, thumbnail_url, title_url and any other *_url, and the
// legacy attachment fields title_link, author_link, author_icon and footer_icon. Slack reads these
// as plain strings: an entity such as &amp; would reach the URL as is and break it (a signed
// recording_url's &X-Amz-Signature=…).
func urlKey(k string) bool {
	switch k {
	case "url", "title_link", "author_link", "author_icon", "footer_icon":
		return true
	}
	return strings.HasSuffix(k, "_url")
}

// maxAliasDepth bounds how deep YAML aliases are followed, so a cyclic document cannot hang compile.
const maxAliasDepth = 32

// compileNode compiles a YAML structure; every string scalar in it is a template. path names n in
// errors, e.g. rules[0].actions[1].body.
func (c *compiler) compileNode(n *yaml.Node, path string, depth int) *node {
	if depth > maxAliasDepth {
		c.errorf(n.Line, path, "nested too deeply (or aliases form a cycle): flatten the structure")
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &node{kind: nodeLiteral, raw: []byte("null")}
		}
		return c.compileNode(n.Content[0], path, depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			c.errorf(n.Line, path, "alias points nowhere: define the anchor first")
			return nil
		}
		return c.compileNode(n.Alias, path, depth+1)
	case yaml.MappingNode:
		out := &node{kind: nodeMap}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				c.errorf(k.Line, path, "a key must be a plain string: quote it")
				continue
			}
			key := appendJSONString(nil, k.Value, nil)
			kid := c.compileNode(v, childPath(path, k.Value), depth+1)
			if kid == nil {
				continue
			}
			if kid.kind == nodeTemplate && urlKey(k.Value) {
				kid.url = true
			}
			out.keys = append(out.keys, append(key, ':'))
			out.kids = append(out.kids, kid)
		}
		return out
	case yaml.SequenceNode:
		out := &node{kind: nodeSeq}
		for i, e := range n.Content {
			if kid := c.compileNode(e, fmt.Sprintf("%s[%d]", path, i), depth+1); kid != nil {
				out.kids = append(out.kids, kid)
			}
		}
		return out
	case yaml.ScalarNode:
		return c.compileScalar(n, path)
	}
	c.errorf(n.Line, path, "unsupported YAML value: use a map, a list or a scalar")
	return nil
}

// compileScalar compiles a scalar: strings are templates; numbers, booleans and null keep their type.
func (c *compiler) compileScalar(n *yaml.Node, path string) *node {
	switch n.ShortTag() {
	case "!!null":
		return &node{kind: nodeLiteral, raw: []byte("null")}
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			c.errorf(n.Line, path, "cannot read %q: quote it to send it as a string", n.Value)
			return nil
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			c.errorf(n.Line, path, "%q cannot be written as JSON: quote it to send it as a string", n.Value)
			return nil
		}
		raw, err := json.Marshal(v)
		if err != nil {
			c.errorf(n.Line, path, "%q cannot be written as JSON: quote it to send it as a string", n.Value)
			return nil
		}
		return &node{kind: nodeLiteral, raw: raw}
	}
	t := c.compileTemplate(n.Value, n.Line, n.Style&yaml.LiteralStyle != 0, path)
	if t == nil {
		return nil
	}
	if len(t.segs) == 0 || (len(t.segs) == 1 && t.segs[0].prog == nil) {
		return &node{kind: nodeLiteral, raw: appendJSONString(nil, n.Value, nil)}
	}
	return &node{kind: nodeTemplate, tmpl: t}
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// childPath names a map entry: path.key, or path["odd key"] when the key is not a plain word.
func childPath(path, key string) string {
	if plainKey.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// appendJSON renders the structure as JSON onto dst. A lone {{ }} keeps its value's type; esc applies
// to every string that came from the call, except in the value of a URL key, where urlEsc does.
func (n *node) appendJSON(st *state, dst []byte, esc, urlEsc escaper) ([]byte, error) {
	var err error
	if n.url {
		esc = urlEsc
	}
	switch n.kind {
	case nodeLiteral:
		return append(dst, n.raw...), nil
	case nodeTemplate:
		if n.tmpl.lone() {
			s := &n.tmpl.segs[0]
			v, err := st.run(s.prog)
			if err != nil {
				return dst, &templateError{src: "{{ " + s.src + " }}", msg: runtimeMessage(err)}
			}
			// A map built by the expression (a conditional block) keeps the URL rule for its URL keys;
			// a node that is itself a URL value is already escaped as one by esc.
			if n.url {
				urlEsc = nil
			}
			if dst, err = appendJSON(dst, v, esc, urlEsc); err != nil {
				return dst, &templateError{src: "{{ " + s.src + " }}", msg: err.Error()}
			}
			return dst, nil
		}
		start := len(st.buf)
		st.buf, err = n.tmpl.appendString(st, st.buf, esc)
		if err == nil {
			dst = appendJSONText(dst, st.buf[start:])
		}
		st.buf = st.buf[:start]
		return dst, err
	case nodeMap:
		dst = append(dst, '{')
		for i, kid := range n.kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, n.keys[i]...)
			if dst, err = kid.appendJSON(st, dst, esc, urlEsc); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	default:
		dst = append(dst, '[')
		for i, kid := range n.kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = kid.appendJSON(st, dst, esc, urlEsc); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
}
