package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/phone"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/console.css
var css []byte

//go:embed static/icon.svg
var icon []byte

func serveCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(css)
}

func serveIcon(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(icon)
}

// pages are the page templates, each parsed with the layout.
var pages = func() map[string]*template.Template {
	names := []string{"login", "error", "overview", "calls", "call", "deliveries", "confirm", "sinks", "rules"}
	out := map[string]*template.Template{}
	for _, n := range names {
		out[n] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
	}
	return out
}()

var funcs = template.FuncMap{
	"time":     fmtTime,
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"seconds":  fmtSeconds,
	"plural":   plural,
	"duration": fmtDuration,
	"query":    func(v url.Values) string { return v.Encode() },
	"add":      func(a, b int) int { return a + b },
	"words":    func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

// page is what the layout needs besides the page's own data.
type page struct {
	Title string
	Nav   string // the current section
	CSRF  string
	// LoggedIn shows the logout button.
	LoggedIn bool
	Flash    string
	Data     any
}

// render writes a page; a template error (a bug) is a 500 with a plain message.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, a access, title string, data any) {
	p := page{Title: title, Nav: name, CSRF: c.formToken(a), LoggedIn: a.loggedIn, Flash: c.flash(r), Data: data}
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, p); err != nil {
		c.log.Error("console: render page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered; see the log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail shows an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", c.who(r), http.StatusText(status), msg)
}

// storeFailed logs a store error and shows a 503 page.
func (c *Console) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error("console: read the store", "path", r.URL.Path, "err", err)
	c.fail(w, r, http.StatusServiceUnavailable, "The storage did not answer. Try again in a moment; the log says more.")
}

// flash is the message a redirect after a form carries: a fixed text chosen by a code, never text
// from the URL.
func (c *Console) flash(r *http.Request) string {
	q := r.URL.Query()
	if m := c.sinkFlash(q); m != "" {
		return m
	}
	if n := q.Get("requeued"); n != "" {
		if k, err := strconv.Atoi(n); err == nil && k >= 0 {
			return plural(k, "delivery", "deliveries") + " requeued: they will be sent again shortly."
		}
	}
	return ""
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func fmtSeconds(s int64) string {
	if s < 60 {
		return fmt.Sprintf("%ds", s)
	}
	if s < 3600 {
		return fmt.Sprintf("%dm %02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh %02dm", s/3600, (s%3600)/60)
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// showPhone masks a phone number as the logs do unless log.show_phone_numbers is set.
func (c *Console) showPhone(p string) string {
	if p == "" {
		return "unknown"
	}
	if c.runtime().Config.Log.ShowPhoneNumbers {
		return p
	}
	return phone.Mask(p)
}

// maxShown is the most bytes of a body or message shown on a page; the rest is behind the raw link.
const maxShown = 16 << 10

// cut shortens s to at most n bytes on a rune boundary and reports whether it did.
func cut(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n], true
}

// pretty indents JSON for reading; anything else is returned as is.
func pretty(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return buf.String()
}
