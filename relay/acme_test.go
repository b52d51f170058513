package relay

import (
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

// TestSetupACME covers what can be checked without a certificate authority: the TLS config offers
// TLS-ALPN-01, and the HTTP-01 listener's absence is an error unless the main listener is on :443.
// (Obtaining a certificate needs an ACME server; pebble cannot be embedded in a test here.)
func TestSetupACME(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name     string
		http01   string // where the HTTP-01 listener goes
		listen   string
		wantErr  string
		wantWarn bool
	}{
		{"HTTP-01 listener starts", "127.0.0.1:0", ":8443", "", false},
		{"port 80 unavailable, main listener on 443", busy.Addr().String(), ":443", "", true},
		{"port 80 unavailable elsewhere", busy.Addr().String(), ":8443", "listen on " + busy.Addr().String() + " for the HTTP-01 challenge", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := acmeHTTPListen
			acmeHTTPListen = tt.http01
			defer func() { acmeHTTPListen = old }()
			var logs sinktest.Buffer
			s, err := setupTLS(&config.TLS{ACME: &config.ACME{Domains: []string{"relay.example.com"}, CacheDir: t.TempDir()}},
				tt.listen, slog.New(slog.NewTextHandler(&logs, nil)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.stop()
			if got := strings.Contains(logs.String(), "relying on TLS-ALPN-01"); got != tt.wantWarn {
				t.Errorf("warned = %v, want %v; logs:\n%s", got, tt.wantWarn, logs.String())
			}
			if !containsProto(s.config, "acme-tls/1") {
				t.Errorf("NextProtos = %q, want acme-tls/1 for TLS-ALPN-01", s.config.NextProtos)
			}
			// A host outside domains is refused before any ACME request.
			if _, err := s.config.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example.com"}); err == nil {
				t.Error("a certificate was offered for a host outside domains")
			}
		})
	}
}

func containsProto(c *tls.Config, p string) bool {
	for _, x := range c.NextProtos {
		if x == p {
			return true
		}
	}
	return false
}
