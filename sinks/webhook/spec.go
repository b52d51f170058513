package webhook

import (
	"encoding/json"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/escape"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Methods are the HTTP methods the method key takes.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// Spec declares the webhook sink type.
var Spec = &spec.Descriptor{
	Type: "webhook",
	Doc:  "an HTTP request per message, for a CRM or any service",
	Keys: []spec.Key{
		{Name: "url", Kind: spec.KindSecretURL, Required: true, Doc: "**secret** (URLs often carry keys); an absolute `http` or `https` URL"},
		{Name: "method", Kind: spec.KindEnum, Enum: Methods, Default: "POST", Doc: "`GET`, `POST`, `PUT`, `PATCH` or `DELETE`"},
		{Name: "headers", Kind: spec.KindHeaderSecrets, Doc: "a mapping of header names to values, sent with every request; the values are **secrets** (`Authorization: \"Bearer ${CRM_TOKEN}\"`)"},
		{Name: "timeout", Kind: spec.KindDuration, Default: httpsink.DefaultTimeout.String(), Timeout: true, Doc: "time allowed for one attempt"},
		{Name: "signing_secret", Kind: spec.KindSecret, Doc: "**secret**; when set, each request is signed by the Standard Webhooks convention (`webhook-id`, `webhook-timestamp`, `webhook-signature` headers)"},
	},
	ActionKeys: []spec.ActionKey{
		{Name: "body", Kind: spec.ActionTree, CallWhenAbsent: true,
			Doc: "the JSON request body; without it, the call is sent as received"},
		{Name: "headers", Kind: spec.ActionTemplateMap, Escape: escape.HTTPHeader, CheckName: checkHeaderName,
			Doc: "request headers by name; a configured header of the same name wins"},
	},
	Decode: func(v spec.Values) (any, []spec.Problem) {
		s := &Settings{URL: v.Secret("url"), Method: v.String("method"), Headers: v.Headers("headers"),
			Timeout: v.Duration("timeout"), SigningSecret: v.Secret("signing_secret")}
		if _, msg := signingKey(string(s.SigningSecret)); s.SigningSecret != "" && msg != "" {
			return s, []spec.Problem{{Key: "signing_secret", Msg: msg}}
		}
		return s, nil
	},
	New: spec.Construct(New),
	Notice: func(n spec.Notice) (sinks.Message, error) {
		return json.Marshal(Message{Body: n.Event})
	},
	TestMark: "headers",
}

// Settings are a webhook sink's config.
type Settings struct {
	URL     spec.Secret
	Method  string                 // default POST
	Headers map[string]spec.Secret // values are secrets
	Timeout time.Duration          // default 10s
	// SigningSecret, when set, signs each request by the Standard Webhooks convention.
	SigningSecret spec.Secret
}

// Message is what a webhook action renders to (see Spec's ActionKeys).
type Message struct {
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the request body; for an action without `body` it is the call as received.
	Body json.RawMessage `json:"body,omitempty"`
}

func checkHeaderName(name string) string {
	if !validName(name) {
		return "not a valid HTTP header name"
	}
	return ""
}
