package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/router"
)

// webhookPaths are paths that once reached http.ServeMux unchecked, or nearly did.
var webhookPaths = []string{
	"/", "/hooks/{x", "/hooks/{x}", "/hooks/}", "/a/{$}", "/a b", "/a\tb", "/a\nb", "/a\u00a0b",
	"//", "/a//b", "/a/./b", "/a/../b", "/.", "/..", "/a/..", "/a?b", "/a#b",
	"/api", "/api/calls", "/ui", "/ui/x", "/debug/pprof/", "/-/reload", "/metrics", "/healthz/x", "/readyz",
	"/a%", "/a%zz", "/é", "/a\\b", "/hooks/", "/metricsx", "/webhooks/intellixent",
}

// TestWebhookPathNeverPanicsServe checks that every webhook path check accepts can be registered
// by the real router: serve must never panic on a config that check passed.
func TestWebhookPathNeverPanicsServe(t *testing.T) {
	for _, p := range webhookPaths {
		t.Run(fmt.Sprintf("%q", p), func(t *testing.T) { routerAccepts(t, p) })
	}
}

// FuzzWebhookPath looks for a webhook path that check accepts and the router cannot register.
func FuzzWebhookPath(f *testing.F) {
	for _, p := range webhookPaths {
		f.Add(p)
	}
	f.Fuzz(routerAccepts)
}

func routerAccepts(t *testing.T, p string) {
	cfg, err := config.Parse("f.yaml", []byte(fmt.Sprintf("server: {webhook_path: %q}\n", p)), nil)
	if err != nil {
		if !strings.Contains(err.Error(), "webhook_path") && !strings.Contains(err.Error(), "invalid YAML") {
			t.Fatalf("Parse error = %v, want one about webhook_path", err)
		}
		return // check refuses it: serve never sees it
	}
	if cfg.Server.WebhookPath != p {
		return // YAML quoting changed it: not the path under test
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("check accepts webhook_path %q, but the router panics on it: %v", p, r)
		}
	}()
	router.New(router.Options{Runtime: func() *router.Runtime { return &router.Runtime{Config: cfg} }})
}
