package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/switchboard-relay/switchboard/config"
)

// healthcheckTimeout bounds the whole probe: Docker's HEALTHCHECK has its own timeout, but a probe
// that hangs forever would pile up processes.
const healthcheckTimeout = 5 * time.Second

// healthcheckCmd asks a running relay's /readyz and exits 0 when it answers 200, 1 otherwise. It is
// what Docker's HEALTHCHECK runs in the distroless image, which has no curl.
func healthcheckCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	cf := addConfigFlags(fs)
	rawURL := fs.String("url", "", "readiness URL to ask (default: derived from the config's server.listen, on loopback)")
	if pos, err := parseInterleaved(fs, args); err != nil || len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	target, insecure, serverName := *rawURL, false, ""
	if target == "" {
		path, err := cf.resolve()
		if err != nil {
			return err
		}
		var listen string
		var useTLS bool
		listen, useTLS, serverName, err = listenOf(path)
		if err != nil {
			return err
		}
		if target, err = readyzURL(listen, useTLS); err != nil {
			return err
		}
		// Our own loopback address: its certificate names the public host, not 127.0.0.1.
		insecure = useTLS
	} else if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "switchboard healthcheck: --url must be an http:// or https:// URL, got %q\n", target)
		return errUsage
	}
	status, err := probe(target, insecure, serverName)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard healthcheck: %s: %v\n", target, err)
		return exitError{1}
	}
	if status != http.StatusOK {
		fmt.Fprintf(stderr, "switchboard healthcheck: %s: not ready (%d %s)\n", target, status, http.StatusText(status))
		return exitError{1}
	}
	fmt.Fprintf(stdout, "%s: ready\n", target)
	return nil
}

// listenOf reads server.listen from the config at path, whether server.tls is set, and the name to
// ask for in TLS (the first ACME domain: an ACME server has no certificate for 127.0.0.1). A config
// with problems still names its listen address: the probe asks the server, which knows best.
func listenOf(path string) (listen string, useTLS bool, serverName string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false, "", fmt.Errorf("read config: %w", err)
	}
	cfg, _ := config.Parse(path, data, os.LookupEnv)
	listen = config.DefaultListen
	if cfg != nil {
		listen = cfg.Server.Listen
	}
	if cfg != nil && cfg.Server.TLS != nil {
		useTLS = true
		if a := cfg.Server.TLS.ACME; a != nil && len(a.Domains) > 0 {
			serverName = a.Domains[0]
		}
	}
	return listen, useTLS, serverName, nil
}

// readyzURL is the loopback /readyz URL of a server listening on listen (host:port). A wildcard or
// empty host is asked on 127.0.0.1 ([::1] for "::"); a named host is asked as written.
func readyzURL(listen string, useTLS bool) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("server.listen %q: %w", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: "/readyz"}).String(), nil
}

// probe GETs target and returns the status. insecure skips certificate verification (only for the
// relay's own loopback address).
func probe(target string, insecure bool, serverName string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	tr := &http.Transport{Proxy: nil}
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, ServerName: serverName} //nolint:gosec // our own loopback address
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
