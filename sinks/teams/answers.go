package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
)

// codeHints says what to do about each error code a Workflows webhook (Azure Logic Apps' error shape,
// {"error":{"code":…,"message":…}}) is reported to answer.
var codeHints = map[string]string{
	"TriggerInputSchemaMismatch": "the workflow expects another body: create it from the template " +
		`"Post to a channel when a webhook request is received"`,
	"WorkflowTriggerIsNotEnabled":            "the workflow is turned off or deleted: turn it on in Teams' Workflows, or create a new one and update webhook_url",
	"WorkflowNotFound":                       "the workflow no longer exists: create a new one and update webhook_url",
	"DirectApiInvalidAuthorizationSignature": "the URL's signature is not valid: copy the whole webhook URL again",
}

// textHints says what to do about the plain-text errors a legacy connector answers.
var textHints = map[string]string{
	"Bad payload received by generic incoming webhook.": "the connector could not read the card: move to a Workflows webhook",
	"Summary or Text is required.":                      "the connector did not read the Adaptive Card: move to a Workflows webhook",
}

// statusHints says what to do about a refusal that carries no known code.
var statusHints = map[int]string{
	http.StatusUnauthorized: "Teams refused the URL: copy the whole webhook URL again",
	http.StatusForbidden:    "Teams refused the URL: copy the whole webhook URL again",
	http.StatusNotFound:     "no webhook at this URL: create a new one and update webhook_url",
	http.StatusGone:         "the connector was removed from its channel: create a Workflows webhook and update webhook_url",
}

// innerHints says what to do about the Teams status a legacy connector reports inside a 200.
var innerHints = map[int]string{
	http.StatusBadRequest:            "Teams refused the card: check the action's text, title and facts",
	http.StatusRequestEntityTooLarge: "the card is too large for Teams: shorten the action's text, title or facts",
	http.StatusTooManyRequests:       "Teams is throttling this connector (4 messages a second, 60 in 30 s, 100 an hour)",
}

// deliveryFailed matches a legacy connector's 200 answer that says the message was not delivered:
// "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 …".
var (
	deliveryFailed = regexp.MustCompile(`(?i)message delivery failed|endpoint returned HTTP error`)
	innerStatus    = regexp.MustCompile(`(?i)returned HTTP error (\d{3})`)
)

// interpret classifies a Teams answer. Any 2xx is delivered (a Workflows webhook answers 202 with an
// empty body, a legacy connector 200 with "1"), except a legacy connector's 200 whose text says the
// delivery failed: that is classified by the Teams status it reports (429 and 5xx retried, 413, 400
// and the rest permanent), or retried when it reports none. Other statuses follow
// sinks.ClassifyStatus with the error code and what to do about it as the detail.
func interpret(status int, header http.Header, body []byte) *sinks.Error {
	if status >= 200 && status < 300 {
		text := strings.TrimSpace(string(body))
		if !deliveryFailed.MatchString(text) {
			return nil
		}
		return legacyFailure(status, header, body, text)
	}
	return sinks.StatusError(status, 0, detail(status, header, body))
}

// legacyFailure classifies a legacy connector's 200 that reports a failed delivery: by the 4xx or 5xx
// status it reports from Teams, else as a retryable server error.
func legacyFailure(status int, header http.Header, body []byte, text string) *sinks.Error {
	summary := httpsink.Summarize(header.Get("Content-Type"), body)
	var e *sinks.Error
	inner := 0
	if m := innerStatus.FindStringSubmatch(text); m != nil {
		inner, _ = strconv.Atoi(m[1])
	}
	if inner >= 400 && inner < 600 {
		msg := fmt.Sprintf("teams answered %d but did not post the message: %s", status, summary)
		if hint, ok := innerHints[inner]; ok {
			msg += ": " + hint
		}
		_, retryable, reason := sinks.ClassifyStatus(inner)
		e = &sinks.Error{Reason: reason, Retryable: retryable, Err: errors.New(msg)}
	} else {
		e = sinks.Retry(sinks.ReasonServerError, fmt.Errorf("teams answered %d but did not post the message: %s", status, summary))
	}
	e.StatusCode = status
	return e
}

// detail describes a refusal: the Workflows error code or the legacy connector's text, with what to
// do about it; else a summary of the body with a hint by status.
func detail(status int, header http.Header, body []byte) string {
	var a struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &a) == nil && a.Error.Code != "" {
		if hint, ok := codeHints[a.Error.Code]; ok {
			return a.Error.Code + ": " + hint
		}
		return a.Error.Code + ": " + httpsink.Summarize("text/plain", []byte(a.Error.Message))
	}
	text := strings.TrimSpace(string(body))
	if hint, ok := textHints[text]; ok {
		return text + ": " + hint
	}
	d := httpsink.Summarize(header.Get("Content-Type"), body)
	if hint, ok := statusHints[status]; ok {
		if d == "" {
			return hint
		}
		return d + ": " + hint
	}
	return d
}
