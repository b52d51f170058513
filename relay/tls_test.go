package relay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-relay/switchboard/internal/testcert"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

// TestTLSFromFilesReloadedOnSIGHUP serves HTTPS from a certificate in files (relative to the config's
// folder), then replaces the files and reloads: new connections get the new certificate, and a broken
// pair keeps the previous one.
func TestTLSFromFilesReloadedOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := testcert.Write(t, certFile, keyFile, 1)
	configPath := filepath.Join(dir, "switchboard.yaml")
	cfg := fmt.Sprintf(`server:
  tls: {cert_file: cert.pem, key_file: key.pem}
storage: {path: %q}
sinks: {ops: {type: log}}
rules: [{name: all, when: "true", actions: [{sink: ops, text: hi}]}]
`, filepath.Join(dir, "data", "switchboard.db"))
	if err := os.WriteFile(configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reload := make(chan struct{})
	ready, done := make(chan struct{}), make(chan error, 1)
	var logs sinktest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		done <- Run(ctx, Options{ConfigPath: configPath, Listener: ln, Reload: reload,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Ready: func(net.Addr) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("relay did not start: %v", err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	}()
	url := "https://" + ln.Addr().String() + "/healthz"

	// servedSerial connects afresh, trusting only want, and returns the serial the server presented.
	servedSerial := func(want *x509.Certificate) (int64, error) {
		pool := x509.NewCertPool()
		pool.AddCert(want)
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}
	if got, err := servedSerial(first); err != nil || got != 1 {
		t.Fatalf("before reload: serial %d, %v; want 1", got, err)
	}
	if resp, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on a TLS listener")
		}
	}

	second := testcert.Write(t, certFile, keyFile, 2)
	reload <- struct{}{}
	reload <- struct{}{} // the second send returns once the first reload finished
	if got, err := servedSerial(second); err != nil || got != 2 {
		t.Fatalf("after reload: serial %d, %v; want 2\nlogs:\n%s", got, err, logs.String())
	}

	if err := os.WriteFile(keyFile, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	reload <- struct{}{} // the second send returns once the first reload finished
	if got, err := servedSerial(second); err != nil || got != 2 {
		t.Errorf("after a broken reload: serial %d, %v; want the previous certificate (2)", got, err)
	}
}
