package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
)

// fixture stores a hot lead (three deliveries, the CRM one dead), a failed call and an unmatched call.
func fixture(t *testing.T, vars map[string]string) (*env, []int64) {
	e := newEnv(t, vars)
	hot := e.ingest(payload(12345, "+15551234567", "completed", "high", "I want a demo"), t0.Add(-2*time.Hour))
	e.kill(hot[1])
	e.ingest(payload(12346, "+15557654321", "failed", "", "bye"), t0.Add(-time.Hour))
	e.ingest(payload(12347, "+15550001111", "completed", "low", "no thanks"), t0.Add(-30*time.Minute))
	return e, hot
}

func TestPages(t *testing.T) {
	e, hot := fixture(t, nil)
	tests := []struct {
		name, path string
		status     int
		want       []string
		not        []string
	}{
		{"overview", "/ui/", 200, []string{"Calls received: <a href=\"/ui/calls?from=", ">3</a>", "<svg", "hot-leads", "Dead letters: <a href=\"/ui/deliveries?state=dead\">1</a>", "Call 12345</a> → crm"}, nil},
		{"calls", "/ui/calls", 200, []string{`href="/ui/calls/12347"`, `href="/ui/calls/12346"`, `href="/ui/calls/12345"`, "&#43;*******4567", "2m 05s", "2 pending, 1 dead"}, []string{"5551234567"}},
		{"call", "/ui/calls/12345", 200, []string{"Call 12345", "&#43;*******4567", "Why", "hot-leads</span> <span class=\"verdict\">matched",
			"failed-calls</span> <span class=\"verdict\">not matched: status in [&#34;failed&#34;, &#34;busy&#34;] is false (status is &#34;completed&#34;)",
			"POST https://crm.example.com/&lt;secret&gt;", "Retry this delivery", "Retry this call's dead deliveries", "HTTP 400", "Hot lead John Doe: Wants a demo",
			"Subject", "Assistant", "Customer", "I want a demo", "https://rec.example.com/12345.mp4"},
			[]string{"SLACKSECRET", "URLSECRET", "HEADERSECRET", "SMTPSECRET", "&#43;15551234567", "5551234567"}},
		{"call not matched", "/ui/calls/12347", 200, []string{"hot-leads</span> <span class=\"verdict\">not matched: extracted_variables.lead_quality == &#34;high&#34; is false (extracted_variables.lead_quality is &#34;low&#34;)"}, nil},
		{"raw", "/ui/calls/12345/raw", 200, []string{`"id":12345`, "+*******4567"}, []string{"+15551234567"}},
		{"no such call", "/ui/calls/999", 404, []string{"There is no call 999"}, nil},
		{"deliveries", "/ui/deliveries", 200, []string{fmt.Sprintf("/ui/deliveries/%d/retry", hot[1]), "client_error", "Retry the matching dead deliveries"}, nil},
		{"deliveries dead", "/ui/deliveries?state=dead", 200, []string{fmt.Sprintf("<td>%d</td>", hot[1])}, []string{fmt.Sprintf("<td>%d</td>", hot[0])}},
		{"deliveries bad state", "/ui/deliveries?state=nope", 400, []string{"must be pending"}, nil},
		{"confirm", "/ui/deliveries/retry?sink=crm", 200, []string{"requeues <strong>1 dead delivery</strong>", `name="sink" value="crm"`}, nil},
		{"sinks", "/ui/sinks", 200, []string{`id="sink-crm"`, "(webhook)", "HTTP 400: bad request", "active"}, []string{"URLSECRET"}},
		{"rules", "/ui/rules", 200, []string{"hot-leads", "status == &#34;completed&#34;", "Try a payload", "Matched <a href="}, nil},
		{"rules with a stored call", "/ui/rules?call=12347", 200, []string{"Result for call 12347", "is false (extracted_variables.lead_quality is &#34;low&#34;)"}, nil},
		{"css", "/ui/static/console.css", 200, []string{"prefers-color-scheme: dark"}, nil},
		{"unknown page", "/ui/nope", 404, []string{"no such page"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(tt.path, nil)
			if r.status != tt.status {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, r.status, tt.status, r.body)
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
				t.Errorf("CSP = %q, want default-src 'self'", csp)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("GET %s: page lacks %q", tt.path, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(r.body, n) {
					t.Errorf("GET %s: page shows %q", tt.path, n)
				}
			}
			if strings.Contains(r.body, "style=") || strings.Contains(r.body, "<script") {
				t.Errorf("GET %s: page has an inline style or a script", tt.path)
			}
		})
	}
}

func TestShowPhoneNumbers(t *testing.T) {
	e, _ := fixture(t, map[string]string{"SHOW_PHONES": "true"})
	for _, path := range []string{"/ui/calls", "/ui/calls/12345"} {
		if r := e.get(path, nil); !strings.Contains(r.body, "&#43;15551234567") {
			t.Errorf("GET %s with log.show_phone_numbers: the phone number is not shown in full", path)
		}
	}
}

func TestEscapesCallData(t *testing.T) {
	e := newEnv(t, nil)
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	e.ingest(payload(1, "+15551234567", "completed", evil, evil), t0)
	r := e.get("/ui/calls/1", nil)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<img") {
		t.Errorf("call data reached the page unescaped")
	}
	if !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the transcript is not shown as text")
	}
}

func TestCallFilters(t *testing.T) {
	e, _ := fixture(t, nil)
	tests := []struct {
		query  string
		status int
		want   []int64
	}{
		{"q=4567", 200, []int64{12345}},
		{"q=%2B1+555+765-4321", 200, []int64{12346}},
		{"q=12346", 200, []int64{12346}},
		{"status=completed", 200, []int64{12347, 12345}},
		{"rule=hot-leads", 200, []int64{12345}},
		{"matched=no", 200, []int64{12347}},
		{"matched=yes", 200, []int64{12346, 12345}},
		{"from=" + url.QueryEscape(t0.Add(-90*time.Minute).Format("2006-01-02T15:04")), 200, []int64{12347, 12346}},
		{"to=" + url.QueryEscape(t0.Add(-90*time.Minute).Format("2006-01-02T15:04")), 200, []int64{12345}},
		{"q=john", 400, nil},
		{"matched=maybe", 400, nil},
		{"from=yesterday", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.get("/ui/calls?"+tt.query, nil)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d", r.status, tt.status)
			}
			for _, id := range []int64{12345, 12346, 12347} {
				want := false
				for _, w := range tt.want {
					want = want || w == id
				}
				if got := strings.Contains(r.body, fmt.Sprintf(`href="/ui/calls/%d"`, id)); got != want {
					t.Errorf("call %d listed = %v, want %v", id, got, want)
				}
			}
		})
	}
}

func TestCallsPaging(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 120 {
		e.ingest(payload(int64(1000+i), "+15550000000", "completed", "low", "x"), t0.Add(time.Duration(i)*time.Second))
	}
	seen := map[string]bool{}
	path := "/ui/calls"
	pages := 0
	for path != "" {
		pages++
		r := e.get(path, nil)
		if r.status != 200 {
			t.Fatalf("GET %s = %d", path, r.status)
		}
		n := strings.Count(r.body, `<td><a href="/ui/calls/`)
		for i := range 120 {
			id := fmt.Sprintf(`href="/ui/calls/%d"`, 1000+i)
			if strings.Contains(r.body, id) {
				if seen[id] {
					t.Errorf("call %d on two pages", 1000+i)
				}
				seen[id] = true
			}
		}
		if pages < 3 && n != 50 || pages == 3 && n != 20 {
			t.Errorf("page %d has %d calls", pages, n)
		}
		path = ""
		if i := strings.Index(r.body, `<a href="/ui/calls?before=`); i >= 0 && strings.Contains(r.body, `rel="next"`) {
			rest := r.body[i+len(`<a href="`):]
			path = strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 120 || pages != 3 {
		t.Errorf("saw %d calls on %d pages, want 120 on 3", len(seen), pages)
	}
}

func TestRetryForms(t *testing.T) {
	e, hot := fixture(t, nil)
	page := e.get("/ui/calls/12345", nil)
	token := csrfOf(t, page.body)
	ck := cookie(page.header, csrfCookie)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("double-submit cookie = %+v, want HttpOnly and SameSite=Strict", ck)
	}
	retry := fmt.Sprintf("/ui/deliveries/%d/retry", hot[1])
	forged := []struct {
		name string
		form url.Values
		mod  func(*http.Request)
	}{
		{"no token, no cookie", url.Values{}, nil},
		{"token without its cookie", url.Values{"csrf": {token}}, nil},
		{"cookie without the token", url.Values{}, withCookies(ck)},
		{"wrong token", url.Values{"csrf": {"x" + token}}, withCookies(ck)},
	}
	for _, tt := range forged {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{retry, "/ui/calls/12345/retry", "/ui/deliveries/retry"} {
				r := e.do("POST", path, tt.form, tt.mod)
				if r.status != http.StatusForbidden {
					t.Errorf("forged POST %s = %d, want 403", path, r.status)
				}
			}
			if s := e.state(hot[1]); s != "dead" {
				t.Fatalf("after a forged POST the delivery is %s, want still dead", s)
			}
		})
	}
	r := e.do("POST", retry, url.Values{"csrf": {token}, "back": {"/ui/calls/12345"}}, withCookies(ck))
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/ui/calls/12345?requeued=1") {
		t.Fatalf("retry = %d to %q, want 303 to the call page", r.status, r.header.Get("Location"))
	}
	if s := e.state(hot[1]); s != "pending" {
		t.Errorf("after retry the delivery is %s, want pending", s)
	}
	if r := e.get(r.header.Get("Location"), nil); !strings.Contains(r.body, "1 delivery requeued") {
		t.Errorf("the page after the retry does not say so")
	}
	// An open redirect is refused: back stays inside the console.
	r = e.do("POST", retry, url.Values{"csrf": {token}, "back": {"https://evil.example/"}}, withCookies(ck))
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/ui/") {
		t.Errorf("back to another site: redirected to %q", loc)
	}
}

func TestBulkRetry(t *testing.T) {
	e := newEnv(t, nil)
	var dead []int64
	for i := range 3 {
		ids := e.ingest(payload(int64(100+i), "+15551234567", "completed", "high", "x"), t0.Add(time.Duration(i)*time.Minute))
		e.kill(ids[1]) // crm
		dead = append(dead, ids[1])
	}
	e.kill(e.ingest(payload(200, "+15551234567", "completed", "high", "x"), t0.Add(time.Hour))[0]) // sales-slack
	page := e.get("/ui/deliveries/retry?sink=crm", nil)
	if !strings.Contains(page.body, "<strong>3 dead deliveries</strong>") {
		t.Fatalf("the confirmation does not show N = 3:\n%s", page.body)
	}
	ck := cookie(page.header, csrfCookie)
	r := e.do("POST", "/ui/deliveries/retry", url.Values{"csrf": {csrfOf(t, page.body)}, "state": {"dead"}, "sink": {"crm"}}, withCookies(ck))
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "requeued=3") {
		t.Fatalf("bulk retry = %d to %q, want 303 with requeued=3", r.status, r.header.Get("Location"))
	}
	for _, id := range dead {
		if s := e.state(id); s != "pending" {
			t.Errorf("delivery %d is %s, want pending", id, s)
		}
	}
	if n := e.get("/ui/deliveries?state=dead", nil); strings.Count(n.body, `<span class="badge dead">dead</span>`) != 1 {
		t.Errorf("the slack dead letter should be the only one left")
	}
}

func TestTryPayload(t *testing.T) {
	e := newEnv(t, nil)
	page := e.get("/ui/rules", nil)
	form := url.Values{"csrf": {csrfOf(t, page.body)}, "payload": {payload(77, "+15551234567", "completed", "high", "<b>hi</b>")}}
	r := e.do("POST", "/ui/rules/try", form, withCookies(cookie(page.header, csrfCookie)))
	if r.status != 200 {
		t.Fatalf("try = %d", r.status)
	}
	for _, w := range []string{"Result for call 77", "hot-leads</span> <span class=\"verdict\">matched", "POST https://crm.example.com/&lt;secret&gt;", "Hot lead John Doe"} {
		if !strings.Contains(r.body, w) {
			t.Errorf("dry run lacks %q", w)
		}
	}
	if strings.Contains(r.body, "URLSECRET") || strings.Contains(r.body, "HEADERSECRET") {
		t.Errorf("the dry run shows a secret")
	}
	if _, err := e.store.GetCall(t.Context(), 77); err == nil {
		t.Errorf("the dry run stored the call")
	}
	bad := e.do("POST", "/ui/rules/try", url.Values{"csrf": {csrfOf(t, page.body)}, "payload": {"{"}}, withCookies(cookie(page.header, csrfCookie)))
	if !strings.Contains(bad.body, "invalid payload") {
		t.Errorf("an invalid payload is not reported")
	}
}

func TestHugeCallIsCut(t *testing.T) {
	e := newEnv(t, nil)
	long := strings.Repeat("blah ", 60000) // 300 KB in one turn
	e.ingest(payload(1, "+15551234567", "completed", "high", long), t0)
	r := e.get("/ui/calls/1", nil)
	if len(r.body) > 200<<10 {
		t.Errorf("page of a 600 KB call weighs %d KB", len(r.body)>>10)
	}
	if !strings.Contains(r.body, "/ui/calls/1/raw") || !strings.Contains(r.body, "The transcript is cut") {
		t.Errorf("the cut is not said, or the raw link is missing")
	}
}

func TestTypicalCallWeight(t *testing.T) {
	e := newEnv(t, nil)
	var turns []string
	for i := 0; len(strings.Join(turns, "")) < 14<<10; i++ {
		turns = append(turns, fmt.Sprintf("Turn %d: I would like to hear more about the Pro plan and its pricing. ", i))
	}
	body := payload(1, "+15551234567", "completed", "high", strings.Join(turns, ""))
	if len(body) > 20<<10 {
		t.Fatalf("payload is %d bytes, want at most 20 KB", len(body))
	}
	e.ingest(body, t0)
	r := e.get("/ui/calls/1", nil)
	t.Logf("a %d-byte call's page weighs %d bytes (plus the %d-byte stylesheet)", len(body), len(r.body), len(css))
	if len(r.body) >= 100<<10 {
		t.Errorf("the page of a typical call weighs %d bytes, want < 100 KB", len(r.body))
	}
}

// TestConfigChanged: when the rules in force decide differently from the stored decision, the call's
// page says so and names what was acted on.
func TestConfigChanged(t *testing.T) {
	e := newEnv(t, nil)
	e.ingest(payload(5, "+15551234567", "completed", "high", "x"), t0)
	if r := e.get("/ui/calls/5", nil); strings.Contains(r.body, "configuration changed") {
		t.Fatalf("the page says the configuration changed when it did not")
	}
	yml := strings.Replace(testConfig, `extracted_variables.lead_quality == "high"`, `extracted_variables.lead_quality == "top"`, 1)
	cfg, err := config.Parse("test.yaml", []byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.rt = &Runtime{Config: cfg, Rules: rs}
	r := e.get("/ui/calls/5", nil)
	for _, w := range []string{"The configuration changed since this call was received: its rules then matched <strong>hot-leads</strong>",
		`extracted_variables.lead_quality == &#34;top&#34; is false (extracted_variables.lead_quality is &#34;high&#34;)`} {
		if !strings.Contains(r.body, w) {
			t.Errorf("the call's page lacks %q", w)
		}
	}
}

// TestOddBytes: a call whose body holds invalid UTF-8 and escaped NULs, and one whose transcript is a
// plain string, are shown, and every page stays valid UTF-8.
func TestOddBytes(t *testing.T) {
	e := newEnv(t, nil)
	e.ingest("{\"id\":1,\"status\":\"comp\xffleted\",\"customer_phone\":\"+1555\\u00001234567\",\"transcript\":\"AI: hi\\nCustomer: \xfe\"}", t0)
	for _, path := range []string{"/ui/calls/1", "/ui/calls/1/raw", "/ui/calls", "/ui/calls?q=4567"} {
		r := e.get(path, nil)
		if r.status != 200 {
			t.Fatalf("GET %s = %d", path, r.status)
		}
		if !utf8.ValidString(r.body) {
			t.Errorf("GET %s is not valid UTF-8", path)
		}
	}
	if r := e.get("/ui/calls/1", nil); !strings.Contains(r.body, "Customer: ") || !strings.Contains(r.body, `class="plain"`) {
		t.Errorf("a transcript sent as a string is not shown as one turn")
	}
}
