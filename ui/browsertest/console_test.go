//go:build browser

package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

const consoleConfig = `
server:
  admin_token: "ADMIN"
storage:
  path: STORAGE
sinks:
  crm:
    type: webhook
    url: RECEIVER
    retry: { max_attempts: 3 }
  team: { type: log }
rules:
  - name: hot-leads
    when: status == "completed" && extracted_variables.lead_quality == "high"
    actions:
      - sink: crm
        body: { phone: "{{ customer_phone }}", summary: "{{ extracted_variables.summary }}" }
      - sink: team
        text: "Hot lead {{ input_variables.customer_name ?? customer_phone }}"
  - name: failed-calls
    when: status in ["failed", "busy"]
    actions:
      - sink: team
        text: "Call {{ id }} ended {{ status }}"
`

func call(id int64, phone, status, quality, said string) string {
	return fmt.Sprintf(`{"id":%d,"customer_phone":%q,"duration":125,"status":%q,
		"extracted_variables":{"lead_quality":%q,"summary":"Wants a demo of the Pro plan"},
		"input_variables":{"customer_name":"John Doe"},
		"transcript":[{"text":"Hello, this is Sarah from Intellixent.","sender":"bot","timestamp":1756812511.3},
			{"text":%q,"sender":"human","timestamp":1756812514.1}],
		"recording_url":"https://portal.example.com/recordings/%d.mp4",
		"created_at":"2026-01-15T10:30:00Z","finished_at":"2026-01-15T10:32:05Z"}`, id, phone, status, quality, said, id)
}

// TestFindExplainAndRetry: open the overview, find a call by the last digits of its phone, open it,
// see why a rule did not match, retry its dead delivery and watch the CRM receive it.
func TestFindExplainAndRetry(t *testing.T) {
	b := newBrowser(t)
	crm := newReceiver(t)
	cfg := strings.NewReplacer("RECEIVER", crm.srv.URL+"/hooks", `"ADMIN"`, `""`).Replace(consoleConfig)
	s := startRelay(t, cfg)
	s.post(call(12345, "+15551234567", "completed", "high", "Yes, <script>alert(1)</script> a demo please."))
	if got := crm.wait(t); !strings.Contains(got, "+15551234567") {
		t.Fatalf("the CRM got %s", got)
	}
	dead := s.waitDead("")
	s.post(call(12346, "+15557654321", "failed", "", "Wrong number."))
	s.post(call(12347, "+15550001111", "completed", "low", "Not interested."))

	b.open(s.base + "/ui/")
	if h := b.text("h1"); h != "Last 24 hours" {
		t.Errorf("overview heading = %q", h)
	}
	if got := b.text("#calls-h"); got != "Calls received: 3" {
		t.Errorf("overview says %q, want 3 calls", got)
	}
	b.screenshot("overview")

	b.follow(chromedp.Click(chromedp.CSS(`nav a[href="/ui/calls"]`)))
	b.screenshot("calls")
	// By keyboard: the first Tab reaches the skip link, Enter on the search field submits it.
	b.run(chromedp.KeyEvent("\t"))
	if got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.textContent`)); err != nil || got != "Skip to content" {
		t.Errorf("the first Tab focuses %q (%v), want the skip link", got, err)
	}
	b.run(chromedp.SendKeys(chromedp.ID("q"), "4567"))
	b.follow(chromedp.SendKeys(chromedp.ID("q"), "\r"))
	if rows := b.text("table.list tbody"); !strings.Contains(rows, "12345") || strings.Contains(rows, "12346") {
		t.Fatalf("searching 4567 listed %q, want only call 12345", rows)
	}
	if masked := b.text("td.phone"); masked != "+*******4567" {
		t.Errorf("customer shown as %q, want masked", masked)
	}
	b.follow(chromedp.Click(chromedp.CSS(`a[href="/ui/calls/12345"]`)))
	if loc := b.location(); !strings.HasSuffix(loc, "/ui/calls/12345") {
		t.Fatalf("at %s, want the call's page", loc)
	}
	why := b.text(".why li.no")
	if want := `failed-calls not matched: status in ["failed", "busy"] is false (status is "completed")`; why != want {
		t.Errorf("why = %q, want %q", why, want)
	}
	if said := b.text(".transcript li.human p"); !strings.Contains(said, "<script>alert(1)</script>") {
		t.Errorf("the transcript shows %q, want the script as text", said)
	}
	b.screenshot("call-dead")

	crm.accept.Store(true)
	b.follow(chromedp.Click(chromedp.CSS(fmt.Sprintf("#delivery-%d button", dead))))
	if flash := b.text(".flash"); !strings.Contains(flash, "1 delivery requeued") {
		t.Errorf("after retry the page says %q", flash)
	}
	if got := crm.wait(t); !strings.Contains(got, "Wants a demo of the Pro plan") {
		t.Errorf("the CRM got %s after the retry", got)
	}
	b.screenshot("call-retried")

	b.follow(chromedp.Click(chromedp.CSS(`nav a[href="/ui/deliveries"]`)))
	b.screenshot("deliveries")
	b.follow(chromedp.Click(chromedp.CSS(`nav a[href="/ui/sinks"]`)))
	if h := b.text("#sink-crm-h"); !strings.Contains(h, "crm") || !strings.Contains(h, "webhook") {
		t.Errorf("sink heading = %q", h)
	}
	b.screenshot("sinks")

	// Pause the CRM: a hot lead that comes in meanwhile waits; resuming sends it.
	b.follow(chromedp.Click(chromedp.CSS(`form[action="/ui/sinks/crm/pause"] button`)))
	if flash := b.text(".flash"); !strings.Contains(flash, "Sink crm paused") {
		t.Errorf("after pausing the page says %q", flash)
	}
	if state := b.text("#sink-crm-h .badge"); state != "paused" {
		t.Errorf("crm shown as %q after the pause, want paused", state)
	}
	if by := b.text("#sink-crm p.small"); !strings.Contains(by, "Paused since") || !strings.Contains(by, "by ui 127.0.0.1:") {
		t.Errorf("crm's state line = %q, want when and by whom it was paused", by)
	}
	b.screenshot("sinks-paused")
	s.post(call(12348, "+15552223333", "completed", "high", "Call me tomorrow."))
	s.waitDelivered("team", 3)
	b.open(s.base + "/ui/")
	if state := b.text(`a[href="/ui/sinks#sink-crm"]`); state != "crm" {
		t.Fatalf("overview sink row = %q", state)
	}
	if row := b.text(`#sinks-h + .scroll tbody tr:first-child`); !strings.Contains(row, "paused") {
		t.Errorf("the overview's crm row = %q, want paused at a glance", row)
	}
	b.screenshot("overview-paused")
	select {
	case got := <-crm.got:
		t.Errorf("the paused CRM received %s", got)
	default:
	}
	b.open(s.base + "/ui/sinks")
	b.follow(chromedp.Click(chromedp.CSS(`form[action="/ui/sinks/crm/resume"] button`)))
	if flash := b.text(".flash"); !strings.Contains(flash, "Sink crm resumed") {
		t.Errorf("after resuming the page says %q", flash)
	}
	if state := b.text("#sink-crm-h .badge"); state != "active" {
		t.Errorf("crm shown as %q after the resume, want active", state)
	}
	if got := crm.wait(t); !strings.Contains(got, "+15552223333") {
		t.Errorf("after the resume the CRM got %s, want the lead that waited", got)
	}
	b.screenshot("sinks-resumed")

	b.follow(chromedp.Click(chromedp.CSS(`nav a[href="/ui/rules"]`)))
	b.run(chromedp.SetValue(chromedp.ID("payload"), call(99, "+15559990000", "busy", "", "Call me later.")))
	b.follow(chromedp.Click(chromedp.CSS(`form[action="/ui/rules/try"] button`)))
	if res := b.text("#result"); !strings.Contains(res, "failed-calls matched") || !strings.Contains(res, "Call 99 ended busy") {
		t.Errorf("dry run shows %q", res)
	}
	b.screenshot("rules-try")

	// On a phone, in dark mode.
	b.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}))
	b.open(s.base + "/ui/calls/12345")
	b.screenshot("call-phone-dark")
	b.open(s.base + "/ui/")
	b.screenshot("overview-phone-dark")
	b.open(s.base + "/ui/sinks")
	b.screenshot("sinks-phone-dark")
}

// TestLogInAndOut: with an admin token, the console asks for it, keeps a session, and logs out.
func TestLogInAndOut(t *testing.T) {
	b := newBrowser(t)
	crm := newReceiver(t)
	const token = "correct-horse-battery-staple"
	s := startRelay(t, strings.NewReplacer("RECEIVER", crm.srv.URL, "ADMIN", token).Replace(consoleConfig))
	s.post(call(1, "+15551234567", "busy", "", "hi"))

	b.open(s.base + "/ui/calls")
	if loc := b.location(); !strings.Contains(loc, "/ui/login?next=%2Fui%2Fcalls") {
		t.Fatalf("without a session at %s, want the login page", loc)
	}
	b.screenshot("login")
	b.run(chromedp.SendKeys(chromedp.ID("token"), "wrong"))
	b.follow(chromedp.Submit(chromedp.ID("token")))
	if msg := b.text(".error"); !strings.Contains(msg, "not the admin token") {
		t.Errorf("a wrong token shows %q", msg)
	}
	b.run(chromedp.SendKeys(chromedp.ID("token"), token))
	b.follow(chromedp.Submit(chromedp.ID("token")))
	if loc := b.location(); !strings.HasSuffix(loc, "/ui/calls") {
		t.Fatalf("after login at %s, want back at the calls", loc)
	}
	if rows := b.text("table.list tbody"); !strings.Contains(rows, "busy") {
		t.Errorf("calls after login: %q", rows)
	}
	b.follow(chromedp.Click(chromedp.CSS(".logout button")))
	if loc := b.location(); !strings.HasSuffix(loc, "/ui/login") {
		t.Fatalf("after logout at %s, want the login page", loc)
	}
	b.open(s.base + "/ui/")
	if loc := b.location(); !strings.Contains(loc, "/ui/login") {
		t.Errorf("after logout the console still opens (%s)", loc)
	}
}

// TestExampleConfig runs config.example.yaml with the example payloads and takes the README's
// screenshot of a call; SWITCHBOARD_UPDATE_DOCS=1 writes it to docs/console.png.
func TestExampleConfig(t *testing.T) {
	b := newBrowser(t)
	root := filepath.Join("..", "..")
	cfg, err := os.ReadFile(filepath.Join(root, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfg), "path: ./data/switchboard.db", "path: STORAGE", 1)
	if text == string(cfg) {
		t.Fatal("config.example.yaml no longer has storage.path: ./data/switchboard.db")
	}
	s := startRelay(t, text)
	for _, f := range []string{"hot-lead.json", "failed-call.json"} {
		body, err := os.ReadFile(filepath.Join(root, "examples", f))
		if err != nil {
			t.Fatal(err)
		}
		s.post(string(body))
	}
	b.run(chromedp.EmulateViewport(1100, 900))
	b.open(s.base + "/ui/calls/12345")
	if h := b.text("h1"); h != "Call 12345" {
		t.Fatalf("heading %q", h)
	}
	shot := b.screenshot("example-call")
	b.open(s.base + "/ui/")
	b.screenshot("example-overview")
	if os.Getenv("SWITCHBOARD_UPDATE_DOCS") == "1" {
		png, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "docs", "console.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
