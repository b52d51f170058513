//go:build browser

package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-relay/switchboard/relay"
)

// deadline bounds each wait of a test; it is not a speed requirement.
const deadline = 60 * time.Second

// chromiumPath finds Debian's chromium, or skips the test with how to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed: install it (Debian/Ubuntu: apt-get install -y chromium) to run the browser tests")
	return ""
}

// browser is one headless chromium tab, with the console messages it logged.
type browser struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	logs []string
	// shots is where screenshots go: the test's temp dir, and $SWITCHBOARD_SCREENSHOTS when set.
	shots []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, shots: []string{t.TempDir()}}
	if dir := os.Getenv("SWITCHBOARD_SCREENSHOTS"); dir != "" {
		b.shots = append(b.shots, dir)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && e.Entry != nil {
			b.mu.Lock()
			b.logs = append(b.logs, fmt.Sprintf("%s %s: %s (%s)", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log: %v", err)
	}
	t.Cleanup(func() {
		// Every page must load without a refused resource, a CSP violation or a script error.
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, l := range b.logs {
			if strings.Contains(l, "status of 401") {
				continue // a wrong admin token is answered 401, on purpose
			}
			if strings.HasPrefix(l, "error") || strings.Contains(l, "Content Security Policy") {
				t.Errorf("the browser logged: %s", l)
			}
		}
	})
	return b
}

// run runs actions with the test's deadline.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, deadline)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open navigates to url and waits for the page.
func (b *browser) open(url string) { b.t.Helper(); b.run(chromedp.Navigate(url)) }

// follow runs an action that loads a new page (a click, a form) and waits for the load.
func (b *browser) follow(a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, deadline)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, a)); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, deadline)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return loc
}

// accessible checks what a keyboard or screen-reader user relies on: one h1, a label for every field,
// and a name for every button and link.
func (b *browser) accessible() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, deadline)
	defer cancel()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const p = [];
		if (document.querySelectorAll('h1').length !== 1) p.push('not exactly one h1');
		for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
			if (!e.labels || e.labels.length === 0) p.push('field without a label: ' + (e.name || e.id));
		for (const e of document.querySelectorAll('button, a'))
			if (!(e.textContent.trim() || e.getAttribute('aria-label'))) p.push('unnamed ' + e.tagName + ' ' + e.outerHTML.slice(0, 80));
		return p;
	})()`))
	if err != nil {
		b.t.Fatalf("check accessibility: %v", err)
	}
	for _, p := range problems {
		b.t.Errorf("%s: %s", b.location(), p)
	}
}

// screenshot saves the whole page as name.png.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, deadline)
	defer cancel()
	b.accessible()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	var first string
	for _, dir := range b.shots {
		p := filepath.Join(dir, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Fatalf("save screenshot: %v", err)
		}
		if first == "" {
			first = p
		}
	}
	b.t.Logf("screenshot %s", first)
	return first
}

// receiver is the CRM: it answers 400 until told to accept, and reports every request.
type receiver struct {
	srv    *httptest.Server
	accept atomic.Bool
	got    chan string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: make(chan string, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.got <- string(body)
		if !r.accept.Load() {
			http.Error(w, `{"error":"unknown field"}`, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the next request's body.
func (r *receiver) wait(t *testing.T) string {
	t.Helper()
	select {
	case b := <-r.got:
		return b
	case <-time.After(deadline):
		t.Fatal("the receiver got nothing")
		return ""
	}
}

// server is a relay running in the test's process on a loopback port.
type server struct {
	t    *testing.T
	base string
}

// startRelay runs `serve` for the config text (with STORAGE replaced by a new database's path).
func startRelay(t *testing.T, cfg string) *server {
	t.Helper()
	dir := t.TempDir()
	cfg = strings.ReplaceAll(cfg, "STORAGE", filepath.Join(dir, "switchboard.db"))
	path := filepath.Join(dir, "switchboard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- relay.Run(ctx, relay.Options{ConfigPath: path, Listener: ln, Logger: slog.New(slog.DiscardHandler),
			Ready: func(net.Addr) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("relay stopped: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	return &server{t: t, base: "http://" + ln.Addr().String()}
}

// post delivers a webhook.
func (s *server) post(body string) {
	s.t.Helper()
	resp, err := http.Post(s.base+"/webhooks/intellixent", "application/json", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		s.t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

// waitDead polls the admin API (no signal exists) until a dead delivery is listed, and returns its id.
func (s *server) waitDead(token string) int64 {
	s.t.Helper()
	stop := time.Now().Add(deadline)
	for time.Now().Before(stop) {
		if ids := s.deliveryIDs("state=dead", token); len(ids) > 0 {
			return ids[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatal(errors.New("no delivery became dead"))
	return 0
}

// waitDelivered polls the admin API (no signal exists) until n deliveries to sink are delivered.
func (s *server) waitDelivered(sink string, n int) {
	s.t.Helper()
	stop := time.Now().Add(deadline)
	for time.Now().Before(stop) {
		if len(s.deliveryIDs("state=delivered&sink="+sink, "")) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("fewer than %d deliveries to %s were delivered", n, sink)
}

// deliveryIDs lists the ids of the deliveries GET /api/deliveries?query answers, with token as the
// bearer token when not empty.
func (s *server) deliveryIDs(query, token string) []int64 {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/deliveries?"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Deliveries []struct {
			ID int64 `json:"id"`
		} `json:"deliveries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		s.t.Fatal(err)
	}
	ids := make([]int64, len(out.Deliveries))
	for i, d := range out.Deliveries {
		ids[i] = d.ID
	}
	return ids
}
