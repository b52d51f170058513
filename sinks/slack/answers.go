package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
)

// webhookHints says what to do about each error an incoming webhook documents.
var webhookHints = map[string]string{
	"invalid_payload":                         "Slack could not read the message: check the action's text and blocks",
	"user_not_found":                          "the webhook's user no longer exists: create a new webhook",
	"missing_text_or_fallback_or_attachments": "the message is empty: give the action a text",
	"action_prohibited":                       "a Slack admin restricted this webhook: ask them to allow it",
	"channel_not_found":                       "the webhook's channel no longer exists: create a new webhook",
	"no_service":                              "the webhook is disabled, revoked or mistyped: create a new one and update webhook_url",
	"channel_is_archived":                     "the channel is archived: unarchive it or use a new webhook",
	"rollup_error":                            "Slack failed",
}

// slackCode matches the bare error codes Slack answers with.
var slackCode = regexp.MustCompile(`^[a-z][a-z_]{1,63}$`)

// interpretWebhook classifies an incoming webhook's answer: 200 "ok" is delivered; a 200 with any other
// body was not delivered (a proxy or portal answered) and is retried; other statuses follow
// sinks.ClassifyStatus with Slack's error code and what to do about it as the detail.
func interpretWebhook(status int, header http.Header, body []byte) *sinks.Error {
	text := strings.TrimSpace(string(body))
	if status >= 200 && status < 300 {
		if text == "ok" {
			return nil
		}
		e := sinks.Retry(sinks.ReasonServerError, fmt.Errorf("slack answered %d without \"ok\" (%s): the message was not posted",
			status, orEmpty(httpsink.Summarize(header.Get("Content-Type"), body))))
		e.StatusCode = status
		return e
	}
	detail := httpsink.Summarize(header.Get("Content-Type"), body)
	if slackCode.MatchString(text) {
		detail = text
		if hint, ok := webhookHints[text]; ok {
			detail += ": " + hint
		}
	}
	return sinks.StatusError(status, 0, detail)
}

// apiAnswer is the envelope of every Web API answer.
type apiAnswer struct {
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
	Warning string `json:"warning"`
}

// Web API error codes by what a retry can do about them.
var (
	apiAuthCodes = map[string]bool{
		"invalid_auth": true, "token_revoked": true, "not_authed": true, "account_inactive": true,
		"token_expired": true, "missing_scope": true, "not_allowed_token_type": true, "ekm_access_denied": true,
	}
	apiRetryCodes = map[string]sinks.Reason{
		"ratelimited": sinks.ReasonRateLimited, "rate_limited": sinks.ReasonRateLimited,
		"internal_error": sinks.ReasonServerError, "fatal_error": sinks.ReasonServerError,
		"service_unavailable": sinks.ReasonServerError, "request_timeout": sinks.ReasonTimeout,
	}
	apiHints = map[string]string{
		"invalid_auth":      "the token is not valid: check token",
		"token_revoked":     "the token was revoked: issue a new one",
		"not_authed":        "no token reached Slack: check token",
		"account_inactive":  "the token's user or bot was deactivated: issue a new token",
		"missing_scope":     "the token lacks chat:write: add the scope and reinstall the app",
		"channel_not_found": "no such channel, or the bot cannot see it: check channel",
		"not_in_channel":    "the bot is not in the channel: invite it",
		"is_archived":       "the channel is archived: unarchive it or change channel",
		"msg_too_long":      "the message is too long: shorten the action's text",
		"no_text":           "the message is empty: give the action a text",
		"invalid_blocks":    "Slack rejected the blocks: check the action's blocks",
	}
)

// interpretAPI classifies a chat.postMessage answer. Slack answers most failures with HTTP 200 and
// {"ok":false,"error":code}: auth codes are permanent auth failures, rate limits and Slack-side
// failures are retried, and every other code (channel_not_found, not_in_channel, is_archived,
// msg_too_long, no_text, invalid_blocks, …) is a permanent client error. ok:true is delivered, even
// with a warning.
func interpretAPI(status int, header http.Header, body []byte) *sinks.Error {
	var a apiAnswer
	jsonErr := json.Unmarshal(body, &a)
	if status < 200 || status >= 300 {
		detail := httpsink.Summarize(header.Get("Content-Type"), body)
		if jsonErr == nil && a.Error != "" {
			detail = describe(a.Error)
		}
		return sinks.StatusError(status, 0, detail)
	}
	var e *sinks.Error
	switch {
	case jsonErr != nil:
		e = sinks.Retry(sinks.ReasonServerError, fmt.Errorf("slack answered %d with %s instead of JSON: the message was not posted",
			status, orEmpty(httpsink.Summarize(header.Get("Content-Type"), body))))
	case a.OK:
		return nil
	case apiAuthCodes[a.Error]:
		e = sinks.Permanent(sinks.ReasonAuth, errors.New("slack refused the message: "+describe(a.Error)))
	case apiRetryCodes[a.Error] != "":
		e = sinks.Retry(apiRetryCodes[a.Error], errors.New("slack refused the message: "+describe(a.Error)))
	default:
		e = sinks.Permanent(sinks.ReasonClientError, errors.New("slack refused the message: "+describe(a.Error)))
	}
	e.StatusCode = status
	return e
}

// describe returns a Web API error code with what to do about it.
func describe(code string) string {
	if code == "" {
		code = "no error code"
	}
	if hint, ok := apiHints[code]; ok {
		return code + ": " + hint
	}
	return code
}

func orEmpty(s string) string {
	if s == "" {
		return "an empty body"
	}
	return s
}
