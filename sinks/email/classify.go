package email

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/switchboard-relay/switchboard/sinks"
)

// classify turns a go-mail failure into a *sinks.Error. SMTP replies decide first: 4xx is temporary
// (retry, server_error); 530, 534 and 535 are refused credentials (permanent auth); other 5xx are
// permanent client errors (550 unknown mailbox, 553 bad address, 552 too big). Without a reply:
// a server that lacks STARTTLS or AUTH, or a password that would cross a cleartext connection, is a
// permanent config error; TLS handshake and certificate failures are retryable connection errors;
// everything else is a timeout or connection failure as sinks.Classify decides. shown is err as the
// user sees it: described and redacted.
func classify(err, shown error) *sinks.Error {
	code := replyCode(err)
	var e *sinks.Error
	switch {
	case code == 530 || code == 534 || code == 535:
		e = sinks.Permanent(sinks.ReasonAuth, shown)
	case code >= 500:
		e = sinks.Permanent(sinks.ReasonClientError, shown)
	case code >= 400:
		e = sinks.Retry(sinks.ReasonServerError, shown)
	case isConfigMismatch(err):
		e = sinks.Permanent(sinks.ReasonConfig, shown)
	case isTLS(err):
		e = sinks.Retry(sinks.ReasonConnection, shown)
	default:
		e = sinks.Classify(shown)
	}
	e.StatusCode = code
	return e
}

// replyCode returns the SMTP reply code in err, 0 when the server did not answer with one.
func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// isConfigMismatch reports failures that no retry fixes because the sink's settings do not fit the
// server.
func isConfigMismatch(err error) bool {
	if errors.Is(err, gosmtp.ErrUnencrypted) || errors.Is(err, gomail.ErrPlainAuthNotSupported) ||
		errors.Is(err, gomail.ErrLoginAuthNotSupported) || errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "does not support STARTTLS") || strings.Contains(s, "does not support SMTP AUTH")
}

// isTLS reports a TLS handshake or certificate failure.
func isTLS(err error) bool {
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &rh) || errors.As(err, &alert) || errors.As(err, &certErr) ||
		errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalid) ||
		strings.Contains(err.Error(), "tls: ")
}

// describe returns the message for a failure: go-mail's text with what to do about it appended, or
// only what to do where go-mail's text names its own settings.
func describe(err error) string {
	code := replyCode(err)
	s := err.Error()
	switch {
	case code == 530:
		return "send email: " + s + ": the server requires authentication: set smtp.username and smtp.password"
	case code == 534 || code == 535:
		return "send email: " + s + ": the server refused the credentials: check smtp.username and smtp.password"
	case strings.Contains(s, "does not support STARTTLS"):
		return "send email: the server does not offer STARTTLS: use tls: implicit for port 465, or tls: none only for a local relay"
	case errors.Is(err, gosmtp.ErrUnencrypted):
		return "send email: refusing to send the password without TLS: use tls: starttls or implicit"
	case strings.Contains(s, "first record does not look like a TLS handshake"):
		return "send email: " + s + ": the server does not speak TLS on this port: use tls: starttls for port 587, implicit only for 465"
	case isTLS(err) && strings.Contains(s, "certificate"):
		return "send email: " + s + ": the server's certificate is not trusted: set smtp.ca_file for a private CA"
	}
	return "send email: " + s
}
