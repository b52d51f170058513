package slack

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/escape"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Spec declares the slack sink type.
var Spec = &spec.Descriptor{
	Type: "slack",
	Doc:  "posts to a Slack channel through an incoming webhook or the Web API",
	Keys: []spec.Key{
		{Name: "webhook_url", Kind: spec.KindSecretURL, Doc: "**secret**; the incoming webhook URL, `https://hooks.slack.com/services/…`. The webhook always posts to its own channel, so `channel` is an error with it"},
		{Name: "token", Kind: spec.KindSecret, Doc: "**secret**; a bot token `xoxb-…` for `chat.postMessage`"},
		{Name: "channel", Kind: spec.KindString, Doc: "channel to post to with `token`: `#sales` or a channel id"},
		{Name: "api_url", Kind: spec.KindURL, Default: DefaultAPIURL, Doc: "the Web API endpoint (change it only for a proxy or a test server)"},
		{Name: "timeout", Kind: spec.KindDuration, Default: httpsink.DefaultTimeout.String(), Timeout: true, Doc: "time allowed for one attempt"},
	},
	ActionKeys: []spec.ActionKey{
		{Name: "text", Kind: spec.ActionTemplate, Escape: Escape,
			Doc: "the message text (Slack mrkdwn), and the notification fallback when blocks are set"},
		{Name: "blocks", Kind: spec.ActionTreeList, Escape: Escape, URLEscape: escape.URL, ListItem: "- type:",
			Doc: "Block Kit blocks; values from the call in a URL key (`url`, `image_url`, …) are escaped as URLs"},
	},
	DefaultRate: "1/s",
	Decode:      decode,
	CheckAction: func(a spec.Action) []spec.Problem {
		if !a.Has("text") && !a.Has("blocks") {
			return []spec.Problem{{Key: "text", Missing: true, Msg: "slack actions need text, blocks or both"}}
		}
		return nil
	},
	New: spec.Construct(New),
	Notice: func(n spec.Notice) (sinks.Message, error) {
		text := n.Text
		if !n.Markup {
			text = string(Escape(nil, text))
		}
		return json.Marshal(Message{Text: text})
	},
	TestMark: "text",
}

// Settings are a slack sink's config: either an incoming webhook (WebhookURL) or the Web API (Token
// and Channel, posting to APIURL).
type Settings struct {
	WebhookURL spec.Secret
	Token      spec.Secret
	Channel    string
	APIURL     string        // default DefaultAPIURL
	Timeout    time.Duration // default 10s
}

// Message is what a slack action renders to (see Spec's ActionKeys).
type Message struct {
	Text   string          `json:"text,omitempty"`
	Blocks json.RawMessage `json:"blocks,omitempty"`
}

func decode(v spec.Values) (any, []spec.Problem) {
	s := &Settings{WebhookURL: v.Secret("webhook_url"), Token: v.Secret("token"), Channel: v.String("channel"),
		APIURL: v.String("api_url"), Timeout: v.Duration("timeout")}
	return s, s.modeProblems()
}

// modeProblems reports settings that are neither an incoming webhook nor the Web API, or both.
func (s *Settings) modeProblems() []spec.Problem {
	switch {
	case s.WebhookURL != "" && s.Token != "":
		return []spec.Problem{{Key: "token", Msg: "set either webhook_url, or token and channel, not both"}}
	case s.WebhookURL == "" && s.Token == "":
		return []spec.Problem{{Key: "webhook_url", Missing: true, Msg: "or token and channel to post with the Web API"}}
	case s.Token != "" && s.Channel == "":
		return []spec.Problem{{Key: "channel", Missing: true, Msg: "posting with a token needs a channel"}}
	case s.WebhookURL != "" && s.Channel != "":
		return []spec.Problem{{Key: "channel", Msg: "only used with token (an incoming webhook always posts to its own channel)"}}
	}
	return nil
}

// entities replaces Slack's three control characters with entities.
var entities = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes a value inert in Slack markup, so a value from a call cannot ping <!channel> or
// forge a <url|link>: &, < and > become entities.
func Escape(dst []byte, s string) []byte { return append(dst, entities.Replace(s)...) }
