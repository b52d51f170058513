package notify

import (
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
)

// CallPath is where a notification links a call, under server.public_url: the web console's page of
// the call.
const CallPath = "/ui/calls/"

// Settings are a config's notify section, compiled: what Apply takes.
type Settings struct {
	// DeadLetters is nil when dead deliveries are not notified.
	DeadLetters *Target
	// SinkDown is nil when sink state changes are not notified.
	SinkDown *Target
	// PublicURL is server.public_url; empty means no links.
	PublicURL string
}

// Target is one kind of notification's destination.
type Target struct {
	Sink     string
	SinkType string // slack, webhook, email or log
	To       []string
	// GroupWait is how long deaths are gathered into one message (dead_letters only).
	GroupWait time.Duration
	// Text is the compiled custom text; nil for the default message.
	Text *rules.Text
}

// textEnv is what a dead_letters text template reads, with values of the types it will have.
var textEnv = map[string]any{
	"kind":       "",
	"sink":       "",
	"count":      0,
	"deliveries": []map[string]any{},
}

// Compile compiles cfg's notify section. Template problems are returned as config.Errors
// ("file:line: notify.dead_letters.text: what is wrong"); the rest was checked when cfg was loaded.
func Compile(cfg *config.Config) (*Settings, error) {
	s := &Settings{PublicURL: cfg.Server.PublicURL}
	if dl := cfg.Notify.DeadLetters; dl != nil {
		t := &Target{Sink: dl.Sink, To: dl.To, GroupWait: dl.GroupWait}
		if sc := cfg.Sink(dl.Sink); sc != nil {
			t.SinkType = sc.Type
		}
		if dl.Text.Text != "" {
			text, err := rules.CompileText(cfg.File, "notify.dead_letters.text", dl.Text, textEnv)
			if err != nil {
				return nil, err
			}
			t.Text = text
		}
		s.DeadLetters = t
	}
	if sd := cfg.Notify.SinkDown; sd != nil {
		t := &Target{Sink: sd.Sink, To: sd.To}
		if sc := cfg.Sink(sd.Sink); sc != nil {
			t.SinkType = sc.Type
		}
		s.SinkDown = t
	}
	return s, nil
}
