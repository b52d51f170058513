// Package email is the email sink: it sends each rendered message as one email through an SMTP
// server with github.com/wneessen/go-mail, and classifies SMTP failures into retries and give-ups.
package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/switchboard-relay/switchboard/sinks"
)

// Sink sends email through one SMTP server. It is safe for concurrent use; each Send opens its own
// connection.
type Sink struct {
	name   string
	from   *mail.Address
	client *gomail.Client
	redact *sinks.Redactor
	log    *slog.Logger
}

// Email is what Preview returns: the email Send would send.
type Email struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Cc      []string `json:"cc"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
}

// New returns the sink named name. A nil logger discards. Errors are *sinks.Error with reason config;
// they name the config key at fault, never its value, and not the sink: the caller adds its location.
func New(name string, conf *Settings, logger *slog.Logger) (*Sink, error) {
	opts, from, err := clientOptions(conf)
	if err != nil {
		return nil, err
	}
	client, err := gomail.NewClient(conf.SMTP.Host, opts...)
	if err != nil {
		return nil, configError("set up the SMTP client: check smtp.host and smtp.port")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sink{
		name:   name,
		from:   from,
		client: client,
		redact: sinks.NewRedactor(nil, string(conf.SMTP.Password)),
		log:    logger.With("sink", name),
	}, nil
}

// Send sends d's message as one email. The configured timeout bounds connecting and each step of the
// conversation; ctx ending interrupts either, and the error then wraps ctx's error.
func (s *Sink) Send(ctx context.Context, d *sinks.Delivery) error {
	m, err := s.build(d)
	if err != nil {
		return err
	}
	st := &sendState{ctx: ctx}
	conn, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, sendKey{}, st))
	if err != nil {
		err = fmt.Errorf("dial failed: %w", err)
	} else {
		if err = s.client.SendWithSMTPClient(conn, m); err != nil {
			err = fmt.Errorf("send failed: %w", err)
		}
		// The server has answered DATA: from here ctx ending must not cut the connection, and a
		// failing QUIT must not turn a delivered message into a failure (and a duplicate on retry).
		st.done()
		if cerr := s.client.CloseWithSMTPClient(conn); cerr != nil && err == nil {
			s.log.Debug("smtp QUIT failed after the message was accepted", "err", s.redact.Wrap(cerr))
		}
	}
	st.done()
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return classify(err, s.redact.WrapMessage(describe(err), err))
}

// Preview returns the Email that Send would send. It sends nothing.
func (s *Sink) Preview(d *sinks.Delivery) (any, error) {
	if _, err := s.build(d); err != nil {
		return nil, err
	}
	var m Message
	if err := d.Message.Decode(&m); err != nil {
		return nil, err
	}
	return &Email{From: s.from.String(), To: clean(m.To), Cc: clean(m.Cc), Subject: oneLine(m.Subject), Text: m.Text, HTML: m.HTML}, nil
}

// build assembles the email: From from the config; To, Cc and Subject with CR and LF made spaces (go-mail
// encodes non-ASCII subjects); Text as text/plain and, when set, HTML as its multipart/alternative
// twin. The Message-ID is derived from the idempotency key, so a repeat after a crash has the same one.
func (s *Sink) build(d *sinks.Delivery) (*gomail.Msg, error) {
	if d == nil {
		return nil, sinks.Permanent(sinks.ReasonTemplate, errors.New("the delivery has no message: re-render it"))
	}
	var msg Message
	if err := d.Message.Decode(&msg); err != nil {
		return nil, err
	}
	to, cc := clean(msg.To), clean(msg.Cc)
	if len(to)+len(cc) == 0 {
		return nil, sinks.Permanent(sinks.ReasonTemplate, errors.New("the email has no recipient: give the action to or cc"))
	}
	m := gomail.NewMsg()
	m.FromMailAddress(s.from)
	if len(to) > 0 {
		if err := m.To(to...); err != nil {
			return nil, sinks.Permanent(sinks.ReasonTemplate, fmt.Errorf("to: %w: fix the action's to", err))
		}
	}
	if len(cc) > 0 {
		if err := m.Cc(cc...); err != nil {
			return nil, sinks.Permanent(sinks.ReasonTemplate, fmt.Errorf("cc: %w: fix the action's cc", err))
		}
	}
	m.Subject(oneLine(msg.Subject))
	m.SetMessageIDWithValue(messageID(d, s.from.Address))
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}
	return m, nil
}

// messageID is "switchboard.<idempotency key>@<from's domain>", with characters a msg-id does not
// allow replaced by "-".
func messageID(d *sinks.Delivery, from string) string {
	domain := "switchboard.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	local := strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, "switchboard."+d.IdempotencyKey())
	return local + "@" + domain
}

// clean drops empty addresses and makes CR and LF in the rest spaces (so such an address fails to parse).
func clean(addrs []string) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if a = strings.TrimSpace(oneLine(a)); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// oneLine replaces CR and LF with spaces and drops NUL, so nothing can end a header line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n':
			return ' '
		case 0:
			return -1
		}
		return r
	}, s)
}
