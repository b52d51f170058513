package email

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/switchboard-relay/switchboard/sinks"
)

// Defaults for zero config values.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultPort         = 587 // submission, for tls starttls and none
	DefaultImplicitPort = 465 // for tls implicit
)

// TLS modes of the smtp.tls key.
const (
	TLSStartTLS = "starttls" // STARTTLS is mandatory: a server without it is an error
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS at all: only for a relay on the same host or network
)

// clientOptions validates conf and returns go-mail's options for it, and the From address.
// Errors name the config keys, never their values.
func clientOptions(conf *Settings) (opts []gomail.Option, from *mail.Address, err error) {
	if conf == nil {
		return nil, nil, configError("email sink has no settings: set smtp and from")
	}
	smtp := conf.SMTP
	if strings.TrimSpace(smtp.Host) == "" {
		return nil, nil, configError("smtp.host is empty: set the SMTP server's host name")
	}
	from, err = mail.ParseAddress(conf.From)
	if err != nil {
		return nil, nil, configError(`from is not an email address: write it as "Name <user@example.com>"`)
	}
	timeout := smtp.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	port := smtp.Port
	mode := strings.ToLower(smtp.TLS)
	if mode == "" {
		mode = TLSStartTLS
	}
	if port == 0 {
		port = DefaultPort
		if mode == TLSImplicit {
			port = DefaultImplicitPort
		}
	}
	opts = []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout)}

	// WithTLSConfig replaces go-mail's whole tls.Config, so ServerName and the roots are set here.
	tlsConf := &tls.Config{ServerName: smtp.Host, MinVersion: tls.VersionTLS12}
	if smtp.CAFile != "" {
		pool, err := caPool(smtp.CAFile)
		if err != nil {
			return nil, nil, err
		}
		tlsConf.RootCAs = pool
	}
	var implicit *tls.Config
	switch mode {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tlsConf))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tlsConf))
		implicit = tlsConf
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, nil, configError(`smtp.tls must be "starttls", "implicit" or "none"`)
	}

	opts = append(opts, gomail.WithDialContextFunc(dialer(implicit)))

	if smtp.Username != "" {
		// PLAIN where offered, else LOGIN. With tls none the operator chose a cleartext connection, so
		// the password may cross it (go-mail otherwise refuses, except to localhost).
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if mode == TLSNone {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, gomail.WithUsername(smtp.Username), gomail.WithPassword(string(smtp.Password)),
			gomail.WithOpportunisticSMTPAuth(mechs...))
	}
	return opts, from, nil
}

// caPool returns the system roots plus the PEM certificates in file.
func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, configError(fmt.Sprintf("smtp.ca_file: cannot read %q: check the path and permissions", file))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, configError(fmt.Sprintf("smtp.ca_file: %q holds no PEM certificate", file))
	}
	return pool, nil
}

func configError(msg string) error {
	return sinks.Permanent(sinks.ReasonConfig, errors.New(msg))
}
