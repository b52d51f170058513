package slack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Slack's documented Block Kit limits for a message (api.slack.com/reference/block-kit): Slack refuses
// a message that breaks one (invalid_blocks), so a template must keep every value from the call
// within them.
const (
	MaxBlocks          = 50   // blocks in a message
	MaxSectionText     = 3000 // a section's text, and any text object not limited lower
	MaxHeaderText      = 150  // a header's plain_text
	MaxFields          = 10   // fields of a section
	MaxFieldText       = 2000 // each field of a section
	MaxContextElements = 10   // elements of a context block
	MaxActionElements  = 25   // elements of an actions block
	MaxButtonText      = 75   // a button's plain_text
	MaxURL             = 3000 // a button's url, an image_url
	MaxAltText         = 2000 // an image's alt_text
	MaxBlockID         = 255  // any block_id or action_id
)

// ValidateMessage checks a Slack message body ({"text": …, "blocks": […]}, as posted or as a dry run
// shows it) against Block Kit's documented limits, counting characters as Slack does (not bytes). It
// returns one line per problem, "blocks[2].text.text: 3120 characters, the limit is 3000", or nil.
// It checks the block types Switchboard's templates use (header, section, actions, context, divider,
// image) and names any other as unknown.
func ValidateMessage(body []byte) []string {
	var msg struct {
		Text   *string          `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return []string{"not a Slack message: " + err.Error()}
	}
	v := &validator{}
	if msg.Text == nil || strings.TrimSpace(*msg.Text) == "" {
		v.add("text", "missing: the plain-text fallback shows in notifications and where blocks cannot")
	}
	if len(msg.Blocks) > MaxBlocks {
		v.add("blocks", "%d blocks, the limit is %d", len(msg.Blocks), MaxBlocks)
	}
	for i, b := range msg.Blocks {
		v.block(fmt.Sprintf("blocks[%d]", i), b)
	}
	return v.problems
}

type validator struct{ problems []string }

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, path+": "+fmt.Sprintf(format, args...))
}

// length checks that s has between 1 and limit characters.
func (v *validator) length(path, s string, limit int) {
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		v.add(path, "empty")
	case n > limit:
		v.add(path, "%d characters, the limit is %d", n, limit)
	}
}

// text checks a text object: a type among allowed and a text within limit.
func (v *validator) text(path string, o any, limit int, allowed ...string) {
	m, ok := o.(map[string]any)
	if !ok {
		v.add(path, "missing, or not a text object")
		return
	}
	typ, _ := m["type"].(string)
	if !slices.Contains(allowed, typ) {
		v.add(path+".type", "%q, want %s", typ, strings.Join(allowed, " or "))
	}
	s, ok := m["text"].(string)
	if !ok {
		v.add(path+".text", "missing, or not a string")
		return
	}
	v.length(path+".text", s, limit)
}

func (v *validator) list(path string, o any, limit int) []any {
	l, ok := o.([]any)
	if !ok {
		v.add(path, "missing, or not a list")
		return nil
	}
	if len(l) == 0 {
		v.add(path, "empty")
	}
	if len(l) > limit {
		v.add(path, "%d elements, the limit is %d", len(l), limit)
	}
	return l
}

func (v *validator) block(path string, b map[string]any) {
	if id, ok := b["block_id"].(string); ok {
		v.length(path+".block_id", id, MaxBlockID)
	}
	switch typ, _ := b["type"].(string); typ {
	case "header":
		v.text(path+".text", b["text"], MaxHeaderText, "plain_text")
	case "section":
		if b["text"] == nil && b["fields"] == nil {
			v.add(path, "a section needs text or fields")
		}
		if b["text"] != nil {
			v.text(path+".text", b["text"], MaxSectionText, "plain_text", "mrkdwn")
		}
		if b["fields"] != nil {
			for i, f := range v.list(path+".fields", b["fields"], MaxFields) {
				v.text(fmt.Sprintf("%s.fields[%d]", path, i), f, MaxFieldText, "plain_text", "mrkdwn")
			}
		}
		if acc, ok := b["accessory"].(map[string]any); ok {
			v.element(path+".accessory", acc)
		}
	case "actions":
		for i, e := range v.list(path+".elements", b["elements"], MaxActionElements) {
			m, _ := e.(map[string]any)
			v.element(fmt.Sprintf("%s.elements[%d]", path, i), m)
		}
	case "context":
		for i, e := range v.list(path+".elements", b["elements"], MaxContextElements) {
			p := fmt.Sprintf("%s.elements[%d]", path, i)
			if m, _ := e.(map[string]any); m != nil && m["type"] == "image" {
				v.image(p, m)
				continue
			}
			v.text(p, e, MaxSectionText, "plain_text", "mrkdwn")
		}
	case "divider":
	case "image":
		v.image(path, b)
	default:
		v.add(path+".type", "%q is not a block type this check knows (header, section, actions, context, divider, image)", typ)
	}
}

// element checks an interactive element; only buttons and images are used in messages here.
func (v *validator) element(path string, e map[string]any) {
	if id, ok := e["action_id"].(string); ok {
		v.length(path+".action_id", id, MaxBlockID)
	}
	switch typ, _ := e["type"].(string); typ {
	case "button":
		v.text(path+".text", e["text"], MaxButtonText, "plain_text")
		if u, ok := e["url"]; ok {
			v.url(path+".url", u)
		}
	case "image":
		v.image(path, e)
	default:
		v.add(path+".type", "%q is not an element this check knows (button, image)", typ)
	}
}

func (v *validator) image(path string, m map[string]any) {
	v.url(path+".image_url", m["image_url"])
	alt, _ := m["alt_text"].(string)
	v.length(path+".alt_text", alt, MaxAltText)
}

// url checks a URL field: an http(s) URL of at most MaxURL characters.
func (v *validator) url(path string, o any) {
	s, _ := o.(string)
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		v.add(path, "not an http(s) URL")
	}
	if n := utf8.RuneCountInString(s); n > MaxURL {
		v.add(path, "%d characters, the limit is %d", n, MaxURL)
	}
}
