package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/switchboard-relay/switchboard/config"
)

// acmeHTTPListen is where the ACME HTTP-01 challenge is answered: certificate authorities ask on port 80.
var acmeHTTPListen = ":80"

// tlsSetup is the HTTPS side of a server: its TLS config, what a reload re-reads, and what stops with it.
type tlsSetup struct {
	config *tls.Config
	certs  *certReloader // nil with ACME
	stop   func()
}

// setupTLS builds the TLS config for server.tls: a certificate from files (re-read by reload), or ACME
// through autocert, answering TLS-ALPN-01 on the main listener and HTTP-01 on :80. Listening on :80
// may fail without the privilege; that is an error unless the main listener is on :443, where
// TLS-ALPN-01 suffices.
func setupTLS(t *config.TLS, listen string, log *slog.Logger) (*tlsSetup, error) {
	if t == nil {
		return nil, nil
	}
	if t.ACME == nil {
		c := &certReloader{certFile: t.CertFile, keyFile: t.KeyFile}
		if err := c.load(); err != nil {
			return nil, err
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get, NextProtos: []string{"h2", "http/1.1"}}
		return &tlsSetup{config: cfg, certs: c, stop: func() {}}, nil
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(t.ACME.Domains...),
		Cache:      autocert.DirCache(t.ACME.CacheDir),
		Email:      t.ACME.Email,
	}
	if t.ACME.DirectoryURL != "" {
		m.Client = &acme.Client{DirectoryURL: t.ACME.DirectoryURL}
	}
	cfg := m.TLSConfig()
	cfg.MinVersion = tls.VersionTLS12
	setup := &tlsSetup{config: cfg, stop: func() {}}
	ln, err := net.Listen("tcp", acmeHTTPListen)
	if err != nil {
		if _, port, _ := net.SplitHostPort(listen); port == "443" {
			log.Warn("ACME: cannot answer HTTP-01 challenges; relying on TLS-ALPN-01 on :443", "listen", acmeHTTPListen, "err", err)
			return setup, nil
		}
		return nil, fmt.Errorf("server.tls.acme: listen on %s for the HTTP-01 challenge (or set server.listen to :443 for TLS-ALPN-01): %w", acmeHTTPListen, err)
	}
	srv := &http.Server{Handler: m.HTTPHandler(nil), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ACME HTTP-01 listener stopped", "err", err)
		}
	}()
	setup.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	log.Info("ACME: answering HTTP-01 challenges", "listen", ln.Addr().String(), "domains", t.ACME.Domains)
	return setup, nil
}

// reload re-reads the certificate files; a broken pair keeps the previous one.
func (s *tlsSetup) reload(log *slog.Logger) {
	if s == nil || s.certs == nil {
		return
	}
	if err := s.certs.load(); err != nil {
		log.Error("TLS certificate reload rejected; the previous certificate stays in use", "err", err)
		return
	}
	log.Info("TLS certificate reloaded", "cert_file", s.certs.certFile)
}

// certReloader serves the certificate last loaded from its files.
type certReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

func (c *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("server.tls: load certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	c.mu.Lock()
	c.cert = &cert
	c.mu.Unlock()
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}

// serve runs srv on ln, with HTTPS when tlsSetup is set.
func serve(srv *http.Server, ln net.Listener, t *tlsSetup) error {
	if t == nil {
		return srv.Serve(ln)
	}
	srv.TLSConfig = t.config
	return srv.ServeTLS(ln, "", "")
}
