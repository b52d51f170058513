package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/relay"
)

// startRelay runs a real relay in process on a loopback listener, with a config whose server.listen
// names that listener's port as ":PORT" (so the healthcheck must derive 127.0.0.1 itself).
func startRelay(t *testing.T) (configPath string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	configPath = writeFileIn(t, dir, "switchboard.yaml", fmt.Sprintf(`server: {listen: ":%d"}
storage: {path: %q}
sinks: {ops: {type: log}}
rules: [{name: all, when: "true", actions: [{sink: ops, text: hi}]}]
`, port, filepath.Join(dir, "data", "switchboard.db")))
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- relay.Run(ctx, relay.Options{
			ConfigPath: configPath, Listener: ln, Logger: slog.New(slog.DiscardHandler),
			Ready: func(net.Addr) { close(ready) },
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("relay did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	return configPath
}

func TestHealthcheck(t *testing.T) {
	relayConfig := startRelay(t)
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"storage unreachable"}`, http.StatusServiceUnavailable)
	}))
	defer notReady.Close()
	readyTLS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	}))
	defer readyTLS.Close()
	tlsPort := readyTLS.Listener.Addr().(*net.TCPAddr).Port
	// server.tls is set: the probe speaks https to its own loopback address without verifying.
	tlsConfig := writeFile(t, "tls.yaml", fmt.Sprintf(`server:
  listen: "0.0.0.0:%d"
  tls: {cert_file: /etc/switchboard/cert.pem, key_file: /etc/switchboard/key.pem}
`, tlsPort))
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/readyz"
	closed.Close()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"derived from the config of a running relay", []string{"healthcheck", "--config", relayConfig}, 0, "/readyz: ready", ""},
		{"derived from SWITCHBOARD_CONFIG", []string{"healthcheck"}, 0, "/readyz: ready", ""},
		{"https when server.tls is set", []string{"healthcheck", "--config", tlsConfig}, 0, fmt.Sprintf("https://127.0.0.1:%d/readyz: ready", tlsPort), ""},
		{"explicit https URL is verified", []string{"healthcheck", "--url", readyTLS.URL + "/readyz"}, 1, "", "certificate"},
		{"not ready is 1", []string{"healthcheck", "--url", notReady.URL + "/readyz"}, 1, "", "not ready (503 Service Unavailable)"},
		{"nothing listening is 1", []string{"healthcheck", "--url", closedURL}, 1, "", "connection refused"},
		{"missing config is 1", []string{"healthcheck", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, 1, "", "read config"},
		{"bad URL is a usage error", []string{"healthcheck", "--url", "localhost:8080"}, 2, "", "--url must be"},
		{"stray argument is a usage error", []string{"healthcheck", "extra"}, 2, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SWITCHBOARD_CONFIG", relayConfig)
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", out, tt.wantStdout)
			}
			if !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantStderr)
			}
		})
	}
}

func TestReadyzURL(t *testing.T) {
	tests := []struct {
		name   string
		listen string
		tls    bool
		want   string
	}{
		{"port only", ":8080", false, "http://127.0.0.1:8080/readyz"},
		{"ipv4 wildcard", "0.0.0.0:8080", false, "http://127.0.0.1:8080/readyz"},
		{"ipv6 wildcard", "[::]:8443", true, "https://[::1]:8443/readyz"},
		{"loopback as written", "127.0.0.1:9000", false, "http://127.0.0.1:9000/readyz"},
		{"named host as written", "localhost:443", true, "https://localhost:443/readyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readyzURL(tt.listen, tt.tls)
			if err != nil || got != tt.want {
				t.Errorf("readyzURL(%q, %v) = %q, %v; want %q", tt.listen, tt.tls, got, err, tt.want)
			}
		})
	}
}
