package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

const (
	crmToken   = "Bearer crm-secret-token-123"
	signSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// fast shortens the in-request backoff so retry rows do not wait.
var fast = httpsink.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}

func newTestSink(t *testing.T, conf *Settings) (*Sink, *sinktest.Buffer) {
	t.Helper()
	logger, logs := sinktest.NewLogger()
	s, err := newSink("crm", conf, logger, fast)
	if err != nil {
		t.Fatalf("newSink() = %v", err)
	}
	return s, logs
}

func TestStatusTable(t *testing.T) {
	sinktest.RunStatusTable(t, func(t *testing.T, url string) sinks.Sink {
		s, _ := newTestSink(t, &Settings{URL: spec.Secret(url)})
		return s
	}, `{"received":true}`)
}

// crm is a receiver that checks each request the way a careful CRM would, signature included, and
// records what it saw.
type crm struct {
	t          *testing.T
	wantMethod string
	key        []byte // the Standard Webhooks key, nil when unsigned
	mu         sync.Mutex
	problems   []string
	headers    http.Header
	body       []byte
}

func (c *crm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var problems []string
	check := func(ok bool, what, got string) {
		if !ok {
			problems = append(problems, fmt.Sprintf("%s %q", what, got))
		}
	}
	check(r.Method == c.wantMethod, "method", r.Method)
	check(r.URL.Path == sinktest.SecretPath, "path", r.URL.Path)
	check(r.Header.Get("Content-Type") == "application/json", "content type", r.Header.Get("Content-Type"))
	check(r.Header.Get("User-Agent") == "Switchboard", "user agent", r.Header.Get("User-Agent"))
	check(r.Header.Get("Idempotency-Key") == "12345-hot-leads-1", "idempotency key", r.Header.Get("Idempotency-Key"))
	if c.key != nil {
		id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
		check(id == "12345-hot-leads-1", "webhook-id", id)
		sec, err := strconv.ParseInt(ts, 10, 64)
		check(err == nil && time.Since(time.Unix(sec, 0)).Abs() < 5*time.Minute, "webhook-timestamp", ts)
		mac := hmac.New(sha256.New, c.key)
		mac.Write([]byte(id + "." + ts + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		check(r.Header.Get("webhook-signature") == want, "webhook-signature", r.Header.Get("webhook-signature"))
	}
	c.mu.Lock()
	c.problems = append(c.problems, problems...)
	c.headers, c.body = r.Header.Clone(), body
	c.mu.Unlock()
	if len(problems) > 0 {
		http.Error(w, "rejected", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestRequest(t *testing.T) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(signSecret, "whsec_"))
	if err != nil {
		t.Fatalf("decode test key: %v", err)
	}
	tests := []struct {
		name string
		conf Settings
		key  []byte
		want string // method the receiver expects
	}{
		{name: "default POST, unsigned", want: http.MethodPost},
		{name: "PUT, signed with whsec_ secret", conf: Settings{Method: "put", SigningSecret: signSecret},
			key: key, want: http.MethodPut},
		{name: "PATCH, signed with a raw secret", conf: Settings{Method: "PATCH", SigningSecret: "plain-signing-secret"},
			key: []byte("plain-signing-secret"), want: http.MethodPatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rcv := &crm{t: t, wantMethod: tc.want, key: tc.key}
			srv := httptest.NewServer(rcv)
			defer srv.Close()
			conf := tc.conf
			conf.URL = spec.Secret(srv.URL + sinktest.SecretPath)
			conf.Headers = map[string]spec.Secret{"Authorization": crmToken}
			s, logs := newTestSink(t, &conf)
			d := sinktest.Delivery()
			err := s.Send(context.Background(), d)
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			if len(rcv.problems) > 0 {
				t.Errorf("receiver rejected the request: %s", strings.Join(rcv.problems, "; "))
			}
			if err != nil {
				t.Fatalf("Send() = %v, want nil", err)
			}
			if got := string(rcv.body); got != string(sinktest.Read[Message](t, d).Body) {
				t.Errorf("body = %s, want %s", got, sinktest.Read[Message](t, d).Body)
			}
			if got := rcv.headers.Get("Authorization"); got != crmToken {
				t.Errorf("Authorization = %q, want the configured header", got)
			}
			if got := rcv.headers.Get("X-Call-Id"); got != "12345" {
				t.Errorf("X-Call-Id = %q, want the message's header 12345", got)
			}
			sinktest.AssertNoSecrets(t, []string{crmToken, signSecret, sinktest.SecretPath}, logs.String())
		})
	}
}

// TestSignStandardWebhooksVector checks Sign against the Standard Webhooks reference test vector.
func TestSignStandardWebhooksVector(t *testing.T) {
	key, err := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatalf("decode key: %v", err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	const want = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got != want {
		t.Errorf("Sign() = %q, want %q", got, want)
	}
}

func TestHeaderPrecedence(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	}))
	defer srv.Close()
	s, _ := newTestSink(t, &Settings{URL: spec.Secret(srv.URL), Headers: map[string]spec.Secret{"authorization": crmToken}})
	d := sinktest.Delivery()
	sinktest.Edit(t, d, func(m *Message) {
		m.Headers = map[string]string{
			"Authorization":   "Bearer from-the-call",
			"Idempotency-Key": "forged",
			"Content-Type":    "text/plain",
			"X-Note":          "line one\r\nX-Injected: yes",
		}
	})
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	tests := []struct {
		name, header, want string
	}{
		{name: "configured header beats the message's", header: "Authorization", want: crmToken},
		{name: "idempotency key cannot be forged", header: "Idempotency-Key", want: "12345-hot-leads-1"},
		{name: "content type stays JSON", header: "Content-Type", want: "application/json"},
		{name: "CR LF stripped from values", header: "X-Note", want: "line oneX-Injected: yes"},
		{name: "no injected header", header: "X-Injected", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if g := got.Get(tc.header); g != tc.want {
				t.Errorf("%s = %q, want %q", tc.header, g, tc.want)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	s, err := New("crm", &Settings{
		URL:           "https://crm.example.com/hooks/T0SECRET?key=abcdef",
		Headers:       map[string]spec.Secret{"Authorization": crmToken},
		SigningSecret: signSecret,
	}, nil)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	p, err := s.Preview(sinktest.Delivery())
	if err != nil {
		t.Fatalf("Preview() = %v", err)
	}
	got := p.(*PreviewRequest)
	tests := []struct {
		name, got, want string
	}{
		{name: "method", got: got.Method, want: "POST"},
		{name: "url", got: got.URL, want: "https://crm.example.com/<secret>"},
		{name: "configured header", got: got.Headers["Authorization"], want: "<secret>"},
		{name: "signature", got: got.Headers["Webhook-Signature"], want: "<secret>"},
		{name: "idempotency key", got: got.Headers["Idempotency-Key"], want: "12345-hot-leads-1"},
		{name: "message header", got: got.Headers["X-Call-Id"], want: "12345"},
		{name: "body", got: string(got.Body), want: `{"phone":"+15551234567","duration_seconds":125}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
			}
		})
	}
	sinktest.AssertNoSecrets(t, []string{crmToken, signSecret, "T0SECRET", "abcdef"}, sinktest.JSON(t, p))
}

// TestNoSecretInErrors checks an answer that echoes the credentials back, and a refused connection.
func TestNoSecretInErrors(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid credentials: "+r.Header.Get("Authorization")+" for "+r.URL.String(), http.StatusUnauthorized)
	}))
	defer echo.Close()
	closed := httptest.NewServer(nil)
	closed.Close()
	tests := []struct {
		name       string
		url        string
		wantReason sinks.Reason
	}{
		{name: "answer echoes the token", url: echo.URL, wantReason: sinks.ReasonAuth},
		{name: "connection refused", url: closed.URL, wantReason: sinks.ReasonConnection},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := newTestSink(t, &Settings{
				URL:           spec.Secret(tc.url + sinktest.SecretPath + "?api_key=querysecret"),
				Headers:       map[string]spec.Secret{"Authorization": crmToken},
				SigningSecret: signSecret,
			})
			err := s.Send(context.Background(), sinktest.Delivery())
			var se *sinks.Error
			if !errors.As(err, &se) || se.Reason != tc.wantReason {
				t.Fatalf("Send() = %v, want a %s *sinks.Error", err, tc.wantReason)
			}
			sinktest.AssertNoSecrets(t, []string{crmToken, "crm-secret-token-123", signSecret, sinktest.SecretPath, "querysecret"},
				err.Error(), logs.String())
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		conf *Settings
		want string
	}{
		{name: "no settings", conf: nil, want: "set url"},
		{name: "no url", conf: &Settings{}, want: "url is not an http(s) URL"},
		{name: "not http", conf: &Settings{URL: "ftp://crm.example.com/T0SECRET"}, want: "url is not an http(s) URL"},
		{name: "bad method", conf: &Settings{URL: "https://crm.example.com/", Method: "PO ST"}, want: "method"},
		{name: "bad header name", conf: &Settings{URL: "https://crm.example.com/", Headers: map[string]spec.Secret{"X Bad": crmToken}},
			want: `headers: "X Bad" is not a valid header name`},
		{name: "whsec_ not base64", conf: &Settings{URL: "https://crm.example.com/", SigningSecret: "whsec_!!notbase64!!"},
			want: "signing_secret starts with whsec_"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("crm", tc.conf, nil)
			var se *sinks.Error
			if !errors.As(err, &se) || se.Reason != sinks.ReasonConfig {
				t.Fatalf("New() = %v, want a config *sinks.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() = %q, want it to contain %q", err, tc.want)
			}
			sinktest.AssertNoSecrets(t, []string{crmToken, "T0SECRET", "notbase64"}, err.Error())
		})
	}
}

func TestInvalidMessageHeaderIsPermanent(t *testing.T) {
	s, err := New("crm", &Settings{URL: "https://crm.example.com/"}, nil)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	d := sinktest.Delivery()
	sinktest.Edit(t, d, func(m *Message) { m.Headers = map[string]string{"Bad Name": "x"} })
	err = s.Send(context.Background(), d)
	var se *sinks.Error
	if !errors.As(err, &se) || se.Reason != sinks.ReasonTemplate || se.Retryable {
		t.Errorf("Send() = %v, want a permanent template *sinks.Error", err)
	}
}
