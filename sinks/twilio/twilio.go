// Package twilio is the Twilio SMS sink: it sends each message as one SMS through Twilio's Messages
// API (POST /2010-04-01/Accounts/{sid}/Messages.json, form-encoded, HTTP basic auth) and classifies
// Twilio's answers by their status and error code (docs/sinks.md, "type: twilio").
//
// Twilio's Messages API has no idempotency key: an attempt that fails after Twilio took the message
// (a crash mid-send, a timeout, a 5xx) is retried and sends the SMS twice.
package twilio

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
)

// Sink sends SMS from one Twilio account and sender. It is safe for concurrent use.
type Sink struct {
	name     string
	set      *Settings
	from     string // the sender as Twilio gets it; empty with a Messaging Service
	endpoint string // the Messages resource of the account
	auth     string // the Authorization header
	client   *httpsink.Client
	log      *slog.Logger
}

// PreviewRequest is what Preview returns: the request Send would make, with the auth token shown
// as "<secret>".
type PreviewRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Auth is the HTTP basic auth: "<account sid>:<secret>".
	Auth string `json:"auth"`
	// Form holds the form fields: To, Body, and From or MessagingServiceSid.
	Form map[string]string `json:"form"`
}

// accepted is the part of Twilio's Message JSON (the 201 answer) that the sink logs.
type accepted struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

// New returns the sink named name, with s as Spec's Decode returns them (defaults applied). A nil
// logger discards. Settings that did not come through the config are checked as Decode checks them;
// a problem is a *sinks.Error with reason config that names the key, never the auth token.
func New(name string, s *Settings, logger *slog.Logger) (*Sink, error) {
	return newSink(name, s, logger, httpsink.Options{})
}

// newSink is New with transport options, so that tests can shorten the in-request backoff.
func newSink(name string, s *Settings, logger *slog.Logger, httpOpts httpsink.Options) (*Sink, error) {
	switch {
	case s == nil:
		return nil, configError("the twilio sink has no settings: set account_sid, auth_token and from")
	case s.AccountSID == "" || s.AuthToken == "":
		return nil, configError("the twilio sink needs account_sid and auth_token")
	}
	if ps := s.problems(); len(ps) > 0 {
		return nil, configError(ps[0].String())
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("sink", name)
	credentials := base64.StdEncoding.EncodeToString([]byte(s.AccountSID + ":" + string(s.AuthToken)))
	httpOpts.Logger = logger
	httpOpts.Timeout = s.Timeout
	httpOpts.Redactor = sinks.NewRedactor(nil, string(s.AuthToken), credentials)
	httpOpts.Interpret = interpreter(httpOpts.Redactor)
	httpOpts.MaskAnswer = maskNumbers // `send-test` prints the answer, which quotes the To number
	return &Sink{
		name:     name,
		set:      s,
		from:     s.sender(),
		endpoint: cmp.Or(s.APIURL, DefaultAPIURL) + "/2010-04-01/Accounts/" + url.PathEscape(s.AccountSID) + "/Messages.json",
		auth:     "Basic " + credentials,
		client:   httpsink.New(httpOpts),
		log:      logger,
	}, nil
}

// Send creates one Message (with the transport's quick in-request retries). Any 2xx is delivered;
// the Message's sid is logged at debug level.
func (s *Sink) Send(ctx context.Context, d *sinks.Delivery) error {
	form, err := s.form(d)
	if err != nil {
		return err
	}
	header := http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Accept":        {"application/json"},
		"User-Agent":    {"Switchboard"},
		"Authorization": {s.auth},
		// Twilio ignores it (the Messages API has no idempotency key), but a proxy can drop repeats by it.
		"Idempotency-Key": {d.IdempotencyKey()},
	}
	resp, err := s.client.Do(ctx, &httpsink.Request{Method: http.MethodPost, URL: s.endpoint, Header: header,
		Body: []byte(form.Encode())})
	if err != nil {
		return err
	}
	var a accepted
	_ = json.Unmarshal(resp.Body, &a) // delivered whatever the body: the sid is only logged
	s.log.Debug("twilio accepted the message", "call_id", d.CallID, "rule", d.Rule, "action", d.Action,
		"message_sid", a.SID, "status", a.Status)
	return nil
}

// Preview returns the PreviewRequest for d. It sends nothing.
func (s *Sink) Preview(d *sinks.Delivery) (any, error) {
	form, err := s.form(d)
	if err != nil {
		return nil, err
	}
	p := &PreviewRequest{Method: http.MethodPost, URL: s.endpoint, Auth: s.set.AccountSID + ":" + sinks.Redacted,
		Form: make(map[string]string, len(form))}
	for k := range form {
		p.Form[k] = form.Get(k)
	}
	return p, nil
}

// form returns the form fields of d's request.
func (s *Sink) form(d *sinks.Delivery) (url.Values, error) {
	m, err := decodeMessage(d)
	if err != nil {
		return nil, err
	}
	to, body, err := m.form()
	if err != nil {
		return nil, err
	}
	form := url.Values{"To": {to}, "Body": {body}}
	if s.set.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", s.set.MessagingServiceSID)
	} else {
		form.Set("From", s.from)
	}
	return form, nil
}

func configError(msg string) error { return sinks.Permanent(sinks.ReasonConfig, errors.New(msg)) }
