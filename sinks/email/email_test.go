package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

const (
	testUser     = "relay"
	testPassword = "smtp-pa55word-secret"
)

func newTestSink(t *testing.T, smtpConf SMTP) (*Sink, *sinktest.Buffer) {
	t.Helper()
	logger, logs := sinktest.NewLogger()
	smtpConf.Host = "127.0.0.1"
	if smtpConf.Timeout == 0 {
		smtpConf.Timeout = 10 * time.Second
	}
	s, err := New("sales-email", &Settings{SMTP: smtpConf, From: "Switchboard <relay@example.com>"}, logger)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return s, logs
}

// part is one decoded body part of a received email.
type part struct {
	contentType string
	body        string
}

// parseEmail reads a received message: its headers and its text parts, decoded.
func parseEmail(t *testing.T, data []byte) (mail.Header, []part) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("parse Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return msg.Header, []part{{contentType: mt, body: decode(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)}}
	}
	var parts []part
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		pmt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts = append(parts, part{contentType: pmt, body: decode(t, p.Header.Get("Content-Transfer-Encoding"), p)})
	}
	return msg.Header, parts
}

func decode(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	if strings.EqualFold(cte, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", cte, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestSendBuildsTheEmail(t *testing.T) {
	box := &mailbox{}
	port := startSMTP(t, box, modePlain, nil)
	s, _ := newTestSink(t, SMTP{Port: port, TLS: TLSNone})
	d := sinktest.Delivery()
	sinktest.Edit(t, d, func(m *Message) {
		m.Subject = "Heißer Lead: ☎ +1 555 123"
		m.Text = "Kunde: Jürgen\nwants a demo"
		m.HTML = "<p>Kunde: J&uuml;rgen</p>"
	})
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	msgs := box.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	header, parts := parseEmail(t, m.data)
	subject, err := new(mime.WordDecoder).DecodeHeader(header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", header.Get("Subject"), err)
	}
	tests := []struct {
		name, got, want string
	}{
		{name: "envelope from", got: m.from, want: "relay@example.com"},
		{name: "envelope recipients", got: strings.Join(m.to, ","), want: "sales@example.com,boss@example.com"},
		{name: "From", got: header.Get("From"), want: `"Switchboard" <relay@example.com>`},
		{name: "To", got: header.Get("To"), want: "<sales@example.com>"},
		{name: "Cc", got: header.Get("Cc"), want: "<boss@example.com>"},
		{name: "Subject decoded", got: subject, want: sinktest.Read[Message](t, d).Subject},
		{name: "Subject is encoded on the wire", got: "ascii-only:" + boolString(isASCII(header.Get("Subject"))), want: "ascii-only:true"},
		{name: "Message-ID from the idempotency key", got: header.Get("Message-Id"), want: "<switchboard.12345-hot-leads-1@example.com>"},
		{name: "parts", got: partTypes(parts), want: "text/plain,text/html"},
	}
	if len(parts) == 2 {
		tests = append(tests,
			struct{ name, got, want string }{name: "text body", got: parts[0].body, want: sinktest.Read[Message](t, d).Text},
			struct{ name, got, want string }{name: "html body", got: parts[1].body, want: sinktest.Read[Message](t, d).HTML})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
			}
		})
	}
}

func TestTextOnlyEmailIsNotMultipart(t *testing.T) {
	box := &mailbox{}
	port := startSMTP(t, box, modePlain, nil)
	s, _ := newTestSink(t, SMTP{Port: port, TLS: TLSNone})
	d := sinktest.Delivery()
	sinktest.Edit(t, d, func(m *Message) {
		m.HTML = ""
	})
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	_, parts := parseEmail(t, box.messages()[0].data)
	if got := partTypes(parts); got != "text/plain" {
		t.Errorf("parts = %q, want text/plain only", got)
	}
}

// TestNoHeaderInjection sends values with CR LF from a call; none may become a header or a recipient.
func TestNoHeaderInjection(t *testing.T) {
	box := &mailbox{}
	port := startSMTP(t, box, modePlain, nil)
	s, _ := newTestSink(t, SMTP{Port: port, TLS: TLSNone})
	d := sinktest.Delivery()
	sinktest.Edit(t, d, func(m *Message) {
		m.Subject = "Lead\r\nBcc: evil@example.net\r\nX-Injected: yes"
		m.Cc = nil
	})
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	m := box.messages()[0]
	header, _ := parseEmail(t, m.data)
	if got := strings.Join(m.to, ","); got != "sales@example.com" {
		t.Errorf("envelope recipients = %q, want only sales@example.com", got)
	}
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v := header.Get(h); v != "" {
			t.Errorf("header %s = %q, want none", h, v)
		}
	}

	sinktest.Edit(t, d, func(m *Message) {
		m.To = []string{"sales@example.com\r\nBcc: evil@example.net"}
	})
	err := s.Send(context.Background(), d)
	var se *sinks.Error
	if !errors.As(err, &se) || se.Reason != sinks.ReasonTemplate || se.Retryable {
		t.Errorf("Send() with CR LF in To = %v, want a permanent template *sinks.Error", err)
	}
}

func TestTLSAndAuth(t *testing.T) {
	cert, caFile := selfSigned(t)
	tests := []struct {
		name       string
		serverMode string
		conf       SMTP
	}{
		{name: "starttls with ca_file and PLAIN", serverMode: modeStartTLS,
			conf: SMTP{TLS: TLSStartTLS, CAFile: caFile, Username: testUser, Password: testPassword}},
		{name: "starttls is the default", serverMode: modeStartTLS,
			conf: SMTP{CAFile: caFile, Username: testUser, Password: testPassword}},
		{name: "implicit TLS with ca_file", serverMode: modeImplicit,
			conf: SMTP{TLS: TLSImplicit, CAFile: caFile, Username: testUser, Password: testPassword}},
		{name: "none with AUTH over cleartext", serverMode: modePlain,
			conf: SMTP{TLS: TLSNone, Username: testUser, Password: testPassword}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			box := &mailbox{user: testUser, pass: testPassword}
			tc.conf.Port = startSMTP(t, box, tc.serverMode, cert)
			s, logs := newTestSink(t, tc.conf)
			err := s.Send(context.Background(), sinktest.Delivery())
			if err != nil {
				t.Fatalf("Send() = %v, want nil", err)
			}
			msgs := box.messages()
			if len(msgs) != 1 || msgs[0].authedAs != testUser {
				t.Fatalf("server received %d messages (authenticated as %q), want 1 as %q", len(msgs), authedAs(msgs), testUser)
			}
			if wantTLS := tc.serverMode != modePlain; msgs[0].tls != wantTLS {
				t.Errorf("session encrypted = %v, want %v", msgs[0].tls, wantTLS)
			}
			sinktest.AssertNoSecrets(t, []string{testPassword}, logs.String())
		})
	}
}

func TestFailures(t *testing.T) {
	cert, caFile := selfSigned(t)
	temp := func(code int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{4, 0, 0}, Message: "try again later"}
	}
	perm := func(code int, msg string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: msg}
	}
	tests := []struct {
		name          string
		box           *mailbox
		serverMode    string // "" for a closed port
		conf          SMTP
		wantRetryable bool
		wantReason    sinks.Reason
		wantCode      int
		wantInError   string
	}{
		{name: "550 unknown mailbox", box: &mailbox{failAt: "rcpt", fail: perm(550, "No such user")}, serverMode: modePlain,
			conf: SMTP{TLS: TLSNone}, wantReason: sinks.ReasonClientError, wantCode: 550, wantInError: "No such user"},
		{name: "553 bad sender", box: &mailbox{failAt: "mail", fail: perm(553, "Sender rejected")}, serverMode: modePlain,
			conf: SMTP{TLS: TLSNone}, wantReason: sinks.ReasonClientError, wantCode: 553},
		{name: "554 rejected at data", box: &mailbox{failAt: "data", fail: perm(554, "Message rejected")}, serverMode: modePlain,
			conf: SMTP{TLS: TLSNone}, wantReason: sinks.ReasonClientError, wantCode: 554},
		{name: "451 at mail is retried", box: &mailbox{failAt: "mail", fail: temp(451)}, serverMode: modePlain,
			conf: SMTP{TLS: TLSNone}, wantRetryable: true, wantReason: sinks.ReasonServerError, wantCode: 451},
		{name: "450 at rcpt is retried", box: &mailbox{failAt: "rcpt", fail: temp(450)}, serverMode: modePlain,
			conf: SMTP{TLS: TLSNone}, wantRetryable: true, wantReason: sinks.ReasonServerError, wantCode: 450},
		{name: "452 at data is retried", box: &mailbox{failAt: "data", fail: temp(452)}, serverMode: modePlain,
			conf: SMTP{TLS: TLSNone}, wantRetryable: true, wantReason: sinks.ReasonServerError, wantCode: 452},
		{name: "535 wrong password", box: &mailbox{user: testUser, pass: "another"}, serverMode: modeStartTLS,
			conf:       SMTP{CAFile: caFile, Username: testUser, Password: testPassword},
			wantReason: sinks.ReasonAuth, wantCode: 535, wantInError: "check smtp.username and smtp.password"},
		{name: "530 no credentials configured", box: &mailbox{user: testUser, pass: testPassword}, serverMode: modePlain,
			conf: SMTP{TLS: TLSNone}, wantReason: sinks.ReasonAuth, wantCode: 530, wantInError: "set smtp.username"},
		{name: "connection refused", serverMode: "", conf: SMTP{TLS: TLSNone},
			wantRetryable: true, wantReason: sinks.ReasonConnection},
		{name: "starttls required but not offered", box: &mailbox{}, serverMode: modePlain,
			conf: SMTP{TLS: TLSStartTLS}, wantReason: sinks.ReasonConfig, wantInError: "does not offer STARTTLS"},
		{name: "implicit TLS against a plain server", box: &mailbox{}, serverMode: modePlain,
			conf: SMTP{TLS: TLSImplicit}, wantRetryable: true, wantReason: sinks.ReasonConnection,
			wantInError: "does not speak TLS on this port"},
		{name: "untrusted certificate", box: &mailbox{}, serverMode: modeStartTLS,
			conf: SMTP{TLS: TLSStartTLS}, wantRetryable: true, wantReason: sinks.ReasonConnection,
			wantInError: "set smtp.ca_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.serverMode == "" {
				tc.conf.Port = closedPort(t)
			} else {
				tc.conf.Port = startSMTP(t, tc.box, tc.serverMode, cert)
			}
			s, logs := newTestSink(t, tc.conf)
			err := s.Send(context.Background(), sinktest.Delivery())
			t.Log(err)
			checkErr(t, err, tc.wantRetryable, tc.wantReason, tc.wantCode, tc.wantInError)
			sinktest.AssertNoSecrets(t, []string{testPassword}, sinktest.ErrorText(err), logs.String())
		})
	}
}

// TestTimeout uses a server that accepts the connection and never greets.
func TestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		<-done
		c.Close()
	}()
	s, _ := newTestSink(t, SMTP{Port: l.Addr().(*net.TCPAddr).Port, TLS: TLSNone, Timeout: 100 * time.Millisecond})
	err = s.Send(context.Background(), sinktest.Delivery())
	checkErr(t, err, true, sinks.ReasonTimeout, 0, "")
}

// TestCancelInterruptsTheConversation stalls the server after the greeting and cancels the Send's
// context: go-mail alone would wait for smtp.timeout.
func TestCancelInterruptsTheConversation(t *testing.T) {
	box := &mailbox{stalled: make(chan struct{}), release: make(chan struct{})}
	port := startSMTP(t, box, modePlain, nil)
	t.Cleanup(func() { close(box.release) }) // runs before the server's Close
	s, _ := newTestSink(t, SMTP{Port: port, TLS: TLSNone, Timeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-box.stalled
		cancel()
	}()
	err := s.Send(ctx, sinktest.Delivery())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send() = %v, want it to wrap context.Canceled", err)
	}
	var se *sinks.Error
	if !errors.As(err, &se) || !se.Retryable {
		t.Errorf("Send() = %v, want a retryable *sinks.Error", err)
	}
}

func checkErr(t *testing.T, err error, wantRetryable bool, wantReason sinks.Reason, wantCode int, wantIn string) {
	t.Helper()
	var se *sinks.Error
	if !errors.As(err, &se) {
		t.Fatalf("Send() = %v, want a *sinks.Error", err)
	}
	if se.Retryable != wantRetryable || se.Reason != wantReason || se.StatusCode != wantCode {
		t.Errorf("Send() = retryable %v reason %q code %d, want retryable %v reason %q code %d (%v)",
			se.Retryable, se.Reason, se.StatusCode, wantRetryable, wantReason, wantCode, err)
	}
	if !strings.Contains(err.Error(), wantIn) {
		t.Errorf("error %q does not contain %q", err, wantIn)
	}
}

func TestPreview(t *testing.T) {
	s, err := New("sales-email", &Settings{
		SMTP: SMTP{Host: "smtp.example.com", Username: testUser, Password: testPassword},
		From: "Switchboard <relay@example.com>",
	}, nil)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	d := sinktest.Delivery()
	sinktest.Edit(t, d, func(m *Message) {
		m.Subject = "Lead\r\nBcc: evil@example.net"
	})
	p, err := s.Preview(d)
	if err != nil {
		t.Fatalf("Preview() = %v", err)
	}
	got := sinktest.JSON(t, p)
	const want = `{"from":"\"Switchboard\" \u003crelay@example.com\u003e","to":["sales@example.com"],"cc":["boss@example.com"],` +
		`"subject":"Lead  Bcc: evil@example.net","text":"Hot lead \u0026lt;Ann\u0026gt;: wants a demo","html":"\u003cp\u003eHot lead\u003c/p\u003e"}`
	if got != want {
		t.Errorf("Preview() = %s\nwant %s", got, want)
	}
	sinktest.AssertNoSecrets(t, []string{testPassword}, got)
}

func TestNewRejectsBadConfig(t *testing.T) {
	noPEM := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(noPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatalf("write file: %v", err)
	}
	tests := []struct {
		name string
		conf *Settings
		want string
	}{
		{name: "no settings", conf: nil, want: "set smtp and from"},
		{name: "no host", conf: &Settings{From: "a@example.com"}, want: "smtp.host is empty"},
		{name: "bad from", conf: &Settings{SMTP: SMTP{Host: "smtp.example.com"}, From: "not an address"},
			want: "from is not an email address"},
		{name: "bad tls", conf: &Settings{SMTP: SMTP{Host: "smtp.example.com", TLS: "ssl"}, From: "a@example.com"},
			want: `smtp.tls must be "starttls", "implicit" or "none"`},
		{name: "missing ca_file", conf: &Settings{SMTP: SMTP{Host: "smtp.example.com", CAFile: "/nonexistent/ca.pem"}, From: "a@example.com"},
			want: `smtp.ca_file: cannot read "/nonexistent/ca.pem"`},
		{name: "ca_file without PEM", conf: &Settings{SMTP: SMTP{Host: "smtp.example.com", CAFile: noPEM}, From: "a@example.com"},
			want: "holds no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("mail", tc.conf, nil)
			var se *sinks.Error
			if !errors.As(err, &se) || se.Reason != sinks.ReasonConfig {
				t.Fatalf("New() = %v, want a config *sinks.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestNoRecipientIsPermanent(t *testing.T) {
	s, _ := newTestSink(t, SMTP{Port: 2525, TLS: TLSNone})
	d := sinktest.Delivery()
	sinktest.Edit(t, d, func(m *Message) {
		m.To, m.Cc = []string{" "}, nil
	})
	err := s.Send(context.Background(), d)
	var se *sinks.Error
	if !errors.As(err, &se) || se.Reason != sinks.ReasonTemplate || se.Retryable {
		t.Errorf("Send() = %v, want a permanent template *sinks.Error", err)
	}
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func partTypes(parts []part) string {
	types := make([]string, len(parts))
	for i, p := range parts {
		types[i] = p.contentType
	}
	return strings.Join(types, ",")
}

func authedAs(msgs []received) string {
	names := make([]string, len(msgs))
	for i, m := range msgs {
		names[i] = m.authedAs
	}
	return strings.Join(slices.Compact(names), ",")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
