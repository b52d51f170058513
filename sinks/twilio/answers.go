package twilio

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboard-relay/switchboard/phone"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
)

// apiError is the body of every Twilio REST error: {"code":21211,"message":"…","more_info":
// "https://www.twilio.com/docs/errors/21211","status":400}.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Twilio error codes the sink treats apart from their HTTP status.
const (
	codeAuth        = 20003 // 401: wrong credentials, or the account is suspended
	codeTooMany     = 20429 // 429: too many concurrent requests; never processed, safe to retry
	codeQueueFull   = 21611 // 400: the sender's queue holds 10 hours of messages; nothing was queued
	codeBodyTooLong = 21617 // 400: Body over 1,600 characters as Twilio counts them
)

// retryCodes are the error codes that a later attempt can get through, although Twilio answers some
// of them with a 4xx: the message was refused, not taken, so a retry sends it once.
var retryCodes = map[int]bool{codeTooMany: true, codeQueueFull: true}

// hints say what to do about the errors a Messages request most often gets.
var hints = map[int]string{
	codeAuth:        "the credentials are wrong or the account is suspended: check account_sid and auth_token",
	20404:           "Twilio knows no such account or resource: check account_sid and api_url",
	codeTooMany:     "too many concurrent requests to the account: retried later",
	21211:           "the To number is not valid: check the action's to",
	21212:           "from is not a valid sender: check from",
	21408:           "this destination's region is off in the account's SMS Geo Permissions: turn it on in the Twilio console",
	21602:           "the text is empty: check the action's text",
	21606:           "from is not a Twilio number able to send SMS to this destination: check from",
	21608:           "a trial account sends only to verified numbers: verify the number in the Twilio console or upgrade the account",
	21610:           "the recipient replied STOP: they get no SMS from this sender until they reply START",
	codeQueueFull:   "the sender's queue holds 10 hours of messages: retried later; add senders or send less",
	21614:           "the To number cannot receive SMS (not a mobile number)",
	codeBodyTooLong: "the text is too long as Twilio counts it (emoji and other non-GSM characters count more): shorten the action's text",
	21659:           "from is not a Twilio number, or a short code used outside its country: check from",
}

// interpret classifies a Messages answer: any 2xx is delivered. A refusal follows
// sinks.ClassifyStatus (429 and 5xx retried, 401 and 403 auth, other 4xx permanent) except where
// Twilio's error code says otherwise: 20003 is auth and 20429 and 21611 are retried whatever the
// status. The error quotes Twilio's code and message; interpreter masks the phone numbers in it.
func interpret(status int, header http.Header, body []byte) *sinks.Error {
	if status >= 200 && status < 300 {
		return nil
	}
	var a apiError
	if json.Unmarshal(body, &a) != nil || a.Code == 0 {
		// Not Twilio's error JSON: a proxy or load balancer answered.
		return sinks.StatusError(status, 0, httpsink.Summarize(header.Get("Content-Type"), body))
	}
	e := sinks.StatusError(status, 0, describe(a))
	switch {
	case retryCodes[a.Code]:
		e.Retryable, e.Reason = true, sinks.ReasonRateLimited
	case a.Code == codeAuth:
		e.Retryable, e.Reason = false, sinks.ReasonAuth
	}
	return e
}

// interpreter is interpret with the error's text redacted and then its phone numbers masked (as the
// logs mask them). Redacting comes first, so that masking cannot hide a secret from the Redactor.
func interpreter(redact *sinks.Redactor) httpsink.Interpreter {
	return func(status int, header http.Header, body []byte) *sinks.Error {
		e := interpret(status, header, body)
		if e != nil && e.Err != nil {
			e.Err = errors.New(maskNumbers(redact.Redact(e.Err.Error())))
		}
		return e
	}
}

// maxMoreInfo bounds the more_info link quoted in an error.
const maxMoreInfo = 200

// describe returns "twilio error <code>: <message>: <hint> (<more_info>)" on one line.
func describe(a apiError) string {
	var b strings.Builder
	b.WriteString("twilio error ")
	b.WriteString(strconv.Itoa(a.Code))
	if msg := httpsink.Summarize("text/plain", []byte(a.Message)); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if hint := hints[a.Code]; hint != "" {
		b.WriteString(": ")
		b.WriteString(hint)
	}
	if strings.HasPrefix(a.MoreInfo, "https://") && len(a.MoreInfo) <= maxMoreInfo && !strings.ContainsAny(a.MoreInfo, " \t\r\n") {
		b.WriteString(" (")
		b.WriteString(a.MoreInfo)
		b.WriteString(")")
	}
	return b.String()
}

// phoneLike matches what may be a phone number in Twilio's text: a + and seven digits or more,
// separators allowed ("+1 (555) 010-0123"), or seven digits or more in a row ("5550100123"), not
// inside a word (an id or a token). Twilio quotes the To and From numbers in E.164 or without the
// country code; its error codes have five digits, and a date such as the API's 2010-04-01 has
// separators and no +.
var phoneLike = regexp.MustCompile(`\+\d(?:[ .()-]{0,2}\d){6,}\b|\b\d{7,}\b`)

// maskNumbers masks every phone number in s as the logs do: all digits but the last four.
func maskNumbers(s string) string { return phoneLike.ReplaceAllStringFunc(s, phone.Mask) }
