package slack

import (
	"errors"
	"net/url"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
)

// DefaultAPIURL is chat.postMessage, used in Web API mode when api_url is not set.
const DefaultAPIURL = "https://slack.com/api/chat.postMessage"

// settings are validated Settings with defaults applied.
type settings struct {
	webAPI  bool
	url     string // the webhook URL or the API URL
	token   string
	channel string
	timeout time.Duration
}

// check validates conf and applies defaults. Errors name the config keys, never their values.
func check(conf *Settings) (settings, error) {
	if conf == nil {
		return settings{}, configError("slack sink has no settings: set webhook_url, or token and channel")
	}
	if ps := conf.modeProblems(); len(ps) > 0 {
		return settings{}, configError(ps[0].String())
	}
	s := settings{timeout: conf.Timeout}
	switch {
	case conf.WebhookURL != "":
		s.url = string(conf.WebhookURL)
	default:
		s.webAPI = true
		s.token = string(conf.Token)
		s.channel = conf.Channel
		s.url = conf.APIURL
		if s.url == "" {
			s.url = DefaultAPIURL
		}
	}
	if u, err := url.Parse(s.url); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		key := "webhook_url"
		if s.webAPI {
			key = "api_url"
		}
		return settings{}, configError(key + " is not an http(s) URL: fix it in the config")
	}
	return s, nil
}

func configError(msg string) error {
	return sinks.Permanent(sinks.ReasonConfig, errors.New(msg))
}
