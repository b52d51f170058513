package config

import (
	"fmt"
	"strings"
	"unicode"
)

// reservedRoutes are Switchboard's own HTTP routes, which the webhook path must not shadow: one
// ending in "/" is a whole subtree, any other is one path and what lies below it.
var reservedRoutes = []string{"/api/", "/ui/", "/debug/", "/-/", "/metrics", "/healthz", "/readyz"}

// checkWebhookPath returns what is wrong with a server.webhook_path, or "" when it is fine. The path
// becomes an http.ServeMux pattern, so everything that would make that registration panic (a
// wildcard brace, whitespace, a path that is not clean, the catch-all "/") or shadow a built-in
// route is refused here, where it has a line number.
func checkWebhookPath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("must start with \"/\", got %q", p)
	case p == "/":
		return "must not be \"/\" (that would take every route): use a path such as \"/webhooks/intellixent\""
	case strings.ContainsAny(p, "{}"):
		return fmt.Sprintf("must not contain \"{\" or \"}\", got %q", p)
	case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Sprintf("must not contain spaces or control characters, got %q", p)
	case strings.ContainsAny(p, "?#"):
		return fmt.Sprintf("must be a plain path without query or fragment, got %q", p)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p[1:], "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Sprintf("must be a clean path, without \"//\", \".\" or \"..\" segments, got %q", p)
		}
	}
	for _, r := range reservedRoutes {
		base := strings.TrimSuffix(r, "/")
		if p == base || strings.HasPrefix(p, base+"/") {
			return fmt.Sprintf("must not use Switchboard's own route %q, got %q", r, p)
		}
	}
	return ""
}
