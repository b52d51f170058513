package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// sinkStatus returns a sink's stored state (active when none is stored).
func (e *env) sinkStatus(name string) store.SinkStatus {
	e.t.Helper()
	all, err := e.store.SinkStatuses(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range all {
		if s.Sink == name {
			return s
		}
	}
	return store.SinkStatus{Sink: name, State: store.SinkActive}
}

// sinkSection returns the part of the sinks page about one sink.
func sinkSection(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `id="sink-`+name+`"`)
	if i < 0 {
		t.Fatalf("no section for sink %s", name)
	}
	s := body[i:]
	if j := strings.Index(s, "</section>"); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestSinkStates: the sinks page and the overview show each sink's stored state, when and by whom it
// changed, since when it fails and its last error.
func TestSinkStates(t *testing.T) {
	e, _ := fixture(t, nil)
	ctx := t.Context()
	// The fixture's dead delivery died at the wall clock's time (Finish stamps it): the sinks' own
	// record comes after it.
	base := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
	e.now = base
	// Before the sink records a failure, a 400 that killed a delivery is its last error.
	if s := sinkSection(t, e.get("/ui/sinks", nil).body, "crm"); !strings.Contains(s, "HTTP 400: bad request") || !strings.Contains(s, `class="badge active"`) {
		t.Errorf("crm before any sink failure: want active with the dead delivery's error, got\n%s", s)
	}
	// crm fails for longer than hold_after and is held; sales-email is paused from the CLI.
	if _, err := e.store.SinkFailed(ctx, "crm", "HTTP 503: down for maintenance, call +15551234567", time.Minute, base.Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ch, err := e.store.SinkFailed(ctx, "crm", "HTTP 503: down for maintenance, call +15551234567", time.Minute, base.Add(-5*time.Minute)); err != nil || ch.To != store.SinkHeld {
		t.Fatalf("crm after failing 5 minutes = %+v, %v; want held", ch, err)
	}
	if _, err := e.store.SetSinkState(ctx, "sales-email", store.SinkPaused, "cli", base.Add(-90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	page := e.get("/ui/sinks", nil)
	if page.status != http.StatusOK {
		t.Fatalf("GET /ui/sinks = %d", page.status)
	}
	tests := []struct {
		name, sink string
		want, not  []string
	}{
		{"held", "crm", []string{`class="badge held"`, "Held since " + fmtTime(base.Add(-5*time.Minute)) + " (5m 00s ago), by <code>hold</code>",
			"Failing since</dt><dd><span class=\"bad\">" + fmtTime(base.Add(-10*time.Minute)) + "</span>", "HTTP 503: down for maintenance",
			"/ui/sinks/crm/pause", "/ui/sinks/crm/resume"}, []string{"5551234567"}},
		{"paused", "sales-email", []string{`class="badge paused"`, "Paused since " + fmtTime(base.Add(-90*time.Minute)) + " (1h 30m ago), by <code>cli</code>",
			"/ui/sinks/sales-email/resume"}, []string{"/ui/sinks/sales-email/pause"}},
		{"active, never changed", "sales-slack", []string{`class="badge active"`, "/ui/sinks/sales-slack/pause", "No recent error."},
			[]string{"/ui/sinks/sales-slack/resume", "Active since"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sinkSection(t, page.body, tt.sink)
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("sink %s: missing %q in\n%s", tt.sink, w, s)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(s, n) {
					t.Errorf("sink %s: unexpected %q in\n%s", tt.sink, n, s)
				}
			}
		})
	}
	if s := sinkSection(t, page.body, "crm"); strings.Contains(s, "HTTP 400") {
		t.Errorf("crm shows the older 400 instead of the newer 503")
	}
	over := e.get("/ui/", nil).body
	for _, w := range []string{`<span class="badge held">held</span> <span class="muted small">for 5m 00s</span>`,
		`<span class="badge paused">paused</span> <span class="muted small">for 1h 30m</span>`, `<span class="badge active">active</span></td>`} {
		if !strings.Contains(over, w) {
			t.Errorf("overview: missing %q", w)
		}
	}
}

// stateCalls records the console's calls of Options.SetSinkState.
type stateCalls struct {
	mu  sync.Mutex
	got []string // "sink to by"
}

// TestPauseResume: the sinks page's buttons pause and resume a sink through Options.SetSinkState
// (the dispatcher's) or, without it, the store, on behalf of "ui <client address>"; a forged form
// changes nothing.
func TestPauseResume(t *testing.T) {
	tests := []struct {
		name string
		hook bool
	}{
		{"through the dispatcher", true},
		{"store only", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			calls := &stateCalls{}
			if tt.hook {
				e.srv.Config.Handler = New(Options{Store: e.store, Runtime: func() *Runtime { return e.rt }, Now: func() time.Time { return e.now },
					SetSinkState: func(ctx context.Context, sink string, to store.SinkState, by string) (store.SinkChange, error) {
						calls.mu.Lock()
						calls.got = append(calls.got, sink+" "+string(to)+" "+by)
						calls.mu.Unlock()
						return e.store.SetSinkState(ctx, sink, to, by, e.now)
					}})
			}
			page := e.get("/ui/sinks", nil)
			token, ck := csrfOf(t, page.body), cookie(page.header, csrfCookie)
			form := url.Values{"csrf": {token}, "back": {"/ui/sinks"}}

			r := e.do("POST", "/ui/sinks/crm/pause", form, withCookies(ck))
			if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/sinks?") || !strings.HasSuffix(loc, "#sink-crm") {
				t.Fatalf("pause = %d to %q, want 303 back to the sinks page", r.status, loc)
			}
			st := e.sinkStatus("crm")
			if st.State != store.SinkPaused || !strings.HasPrefix(st.ChangedBy, "ui 127.0.0.1:") {
				t.Fatalf("crm after pause = %+v, want paused by \"ui 127.0.0.1:<port>\"", st)
			}
			after := e.get(r.header.Get("Location"), nil).body
			s := sinkSection(t, after, "crm")
			if !strings.Contains(after, "Sink crm paused") || !strings.Contains(s, `class="badge paused"`) || !strings.Contains(s, "/ui/sinks/crm/resume") || strings.Contains(s, "/ui/sinks/crm/pause") {
				t.Errorf("the page after pausing does not show crm paused with a Resume button:\n%s", s)
			}
			r = e.do("POST", "/ui/sinks/crm/pause", form, withCookies(ck))
			if after := e.get(r.header.Get("Location"), nil).body; !strings.Contains(after, "Sink crm was already paused.") {
				t.Errorf("pausing twice does not say the sink was already paused")
			}
			r = e.do("POST", "/ui/sinks/crm/resume", form, withCookies(ck))
			if r.status != http.StatusSeeOther {
				t.Fatalf("resume = %d", r.status)
			}
			if st := e.sinkStatus("crm"); st.State != store.SinkActive {
				t.Errorf("crm after resume = %+v, want active", st)
			}
			if after := e.get(r.header.Get("Location"), nil).body; !strings.Contains(after, "Sink crm resumed") {
				t.Errorf("the page after resuming does not say so")
			}
			if r := e.do("POST", "/ui/sinks/nope/pause", form, withCookies(ck)); r.status != http.StatusNotFound {
				t.Errorf("pause of an unknown sink = %d, want 404", r.status)
			}
			// The flash names only configured sinks and known states.
			if b := e.get("/ui/sinks?sink=%3Cscript%3E&sink_state=paused", nil).body; strings.Contains(b, "script") && strings.Contains(b, "class=\"flash\"") {
				t.Errorf("a flash from an unknown sink name")
			}
			if tt.hook {
				want := []string{"crm paused ui 127.0.0.1:", "crm paused ui 127.0.0.1:", "crm active ui 127.0.0.1:"}
				calls.mu.Lock()
				defer calls.mu.Unlock()
				if len(calls.got) != len(want) {
					t.Fatalf("SetSinkState calls = %q, want %d", calls.got, len(want))
				}
				for i := range want {
					if !strings.HasPrefix(calls.got[i], want[i]) {
						t.Errorf("SetSinkState call %d = %q, want %q…", i, calls.got[i], want[i])
					}
				}
			}
		})
	}
}

// TestPauseForged: a pause or resume without the form token gets 403 and changes nothing, with or
// without an admin token.
func TestPauseForged(t *testing.T) {
	for _, admin := range []string{"", "s3cret-admin-token"} {
		e := newEnv(t, map[string]string{"ADMIN_TOKEN": admin})
		if _, err := e.store.SetSinkState(t.Context(), "crm", store.SinkPaused, "cli", t0); err != nil {
			t.Fatal(err)
		}
		var session *http.Cookie
		if admin != "" {
			r := e.do("POST", "/ui/login", url.Values{"token": {admin}}, nil)
			session = cookie(r.header, sessionCookie)
			if session == nil {
				t.Fatalf("login set no session cookie")
			}
		} else {
			session = cookie(e.get("/ui/sinks", nil).header, csrfCookie)
		}
		forged := []struct {
			name string
			form url.Values
			mod  func(*http.Request)
		}{
			{"no token, no cookie", url.Values{}, nil},
			{"cookie without the token", url.Values{}, withCookies(session)},
			{"wrong token", url.Values{"csrf": {"forged"}}, withCookies(session)},
		}
		for _, tt := range forged {
			t.Run(tt.name+", admin token "+map[bool]string{true: "set", false: "unset"}[admin != ""], func(t *testing.T) {
				for _, path := range []string{"/ui/sinks/crm/resume", "/ui/sinks/sales-slack/pause"} {
					r := e.do("POST", path, tt.form, tt.mod)
					if r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
						t.Errorf("forged POST %s = %d, want 403 (or 401 without a session)", path, r.status)
					}
					if tt.mod != nil && r.status != http.StatusForbidden {
						t.Errorf("forged POST %s with the session = %d, want 403", path, r.status)
					}
				}
				if st := e.sinkStatus("crm"); st.State != store.SinkPaused {
					t.Errorf("crm after a forged resume = %s, want still paused", st.State)
				}
				if st := e.sinkStatus("sales-slack"); st.State != store.SinkActive {
					t.Errorf("sales-slack after a forged pause = %s, want still active", st.State)
				}
			})
		}
	}
}

// TestNotificationRows: notification deliveries (no call: CallID 0, rule notify:<kind>) show as
// "notification" with their rule, never as a link to /ui/calls/0, and can be retried one by one or
// in bulk.
func TestNotificationRows(t *testing.T) {
	e, hot := fixture(t, nil)
	id, err := e.store.AddNotification(t.Context(), store.Notification{Kind: "dead_letters", Sink: "console", Message: []byte(`{"text":"1 delivery to crm failed"}`)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	e.kill(id)
	if s := e.state(id); s != store.Dead {
		t.Fatalf("notification %d is %s, want dead", id, s)
	}
	pages := []struct {
		name, path string
		want       []string
	}{
		{"deliveries", "/ui/deliveries", []string{`<span class="muted">notification</span>`, "notify:dead_letters", "/ui/deliveries/" + strconv.FormatInt(id, 10) + "/retry"}},
		{"dead deliveries of the rule", "/ui/deliveries?state=dead&rule=notify%3Adead_letters", []string{`<span class="muted">notification</span>`, "Retry the matching dead deliveries"}},
		{"overview", "/ui/", []string{`<a href="/ui/deliveries?state=dead&amp;rule=notify%3adead_letters">Notification</a> → console`}},
		{"sinks", "/ui/sinks", []string{`id="sink-console"`}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			r := e.get(p.path, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %d", p.path, r.status)
			}
			for _, w := range p.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("GET %s: missing %q", p.path, w)
				}
			}
			if strings.Contains(r.body, "/ui/calls/0") {
				t.Errorf("GET %s links to /ui/calls/0", p.path)
			}
		})
	}
	if r := e.get("/ui/calls/0", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /ui/calls/0 = %d, want 404", r.status)
	}
	page := e.get("/ui/deliveries", nil)
	token, ck := csrfOf(t, page.body), cookie(page.header, csrfCookie)
	r := e.do("POST", "/ui/deliveries/"+strconv.FormatInt(id, 10)+"/retry", url.Values{"csrf": {token}, "back": {"/ui/deliveries"}}, withCookies(ck))
	if r.status != http.StatusSeeOther || e.state(id) != store.Pending {
		t.Fatalf("retry of the notification = %d, state %s; want 303 and pending", r.status, e.state(id))
	}
	e.kill(id)
	conf := e.get("/ui/deliveries/retry?rule=notify%3Adead_letters", nil)
	if !strings.Contains(conf.body, "<strong>1 dead delivery</strong>") {
		t.Fatalf("the confirmation does not count the dead notification:\n%s", conf.body)
	}
	r = e.do("POST", "/ui/deliveries/retry", url.Values{"csrf": {token}, "state": {"dead"}, "rule": {"notify:dead_letters"}}, withCookies(ck))
	if !strings.Contains(r.header.Get("Location"), "requeued=1") || e.state(id) != store.Pending {
		t.Errorf("bulk retry of the notification rule = %q, state %s; want requeued=1 and pending", r.header.Get("Location"), e.state(id))
	}
	if s := e.state(hot[1]); s != store.Dead {
		t.Errorf("the crm dead letter is %s after retrying the notifications only, want dead", s)
	}
}

func TestFmtAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{60 * time.Millisecond, "less than 1s"},
		{1200 * time.Millisecond, "1s"},
		{5*time.Minute + 300*time.Millisecond, "5m 00s"},
		{26*time.Hour + 3*time.Minute, "26h 03m"},
		{72 * time.Hour, "3d 00h"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := fmtAge(tt.d); got != tt.want {
				t.Errorf("fmtAge(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

// countingStore counts Requeue calls.
type countingStore struct {
	store.Store
	mu       sync.Mutex
	requeues []store.Selector
}

func (s *countingStore) Requeue(ctx context.Context, sel store.Selector, now time.Time) (int, error) {
	s.mu.Lock()
	s.requeues = append(s.requeues, sel)
	s.mu.Unlock()
	return s.Store.Requeue(ctx, sel, now)
}

// TestBulkRetryOneCall: a bulk retry filtered by sink, rule or reason (or by call) is one store call,
// a filtered replay; a window on when the calls were received requeues what the confirmation counted.
func TestBulkRetryOneCall(t *testing.T) {
	tests := []struct {
		name     string
		filters  url.Values
		want     int // requeued
		calls    int // Requeue calls
		selector func(store.Selector) bool
	}{
		{"by sink", url.Values{"sink": {"crm"}}, 3, 1, func(s store.Selector) bool { return s.Dead != nil && s.Dead.Sink == "crm" }},
		{"by rule and reason", url.Values{"rule": {"hot-leads"}, "reason": {"client_error"}}, 4, 1,
			func(s store.Selector) bool {
				return s.Dead != nil && s.Dead.Rule == "hot-leads" && s.Dead.Reason == "client_error"
			}},
		{"everything", url.Values{}, 4, 1, func(s store.Selector) bool { return s.Dead != nil && s.Dead.IsZero() }},
		{"by call", url.Values{"call": {"101"}}, 1, 1, func(s store.Selector) bool { return s.CallID == 101 }},
		{"by call and sink", url.Values{"call": {"101"}, "sink": {"crm"}}, 1, 1, func(s store.Selector) bool { return s.DeliveryID != 0 }},
		{"calls received in a window", url.Values{"sink": {"crm"}, "from": {formTime(t0)}, "to": {formTime(t0.Add(2 * time.Minute))}}, 2, 2,
			func(s store.Selector) bool { return s.DeliveryID != 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			cs := &countingStore{Store: e.store}
			e.srv.Config.Handler = New(Options{Store: cs, Runtime: func() *Runtime { return e.rt }, Now: func() time.Time { return e.now }})
			for i := range 3 {
				ids := e.ingest(payload(int64(100+i), "+15551234567", "completed", "high", "x"), t0.Add(time.Duration(i)*time.Minute))
				e.kill(ids[1]) // crm
			}
			e.kill(e.ingest(payload(200, "+15551234567", "completed", "high", "x"), t0.Add(time.Hour))[0]) // sales-slack
			page := e.get("/ui/deliveries/retry?"+tt.filters.Encode(), nil)
			if tt.want > 0 && !strings.Contains(page.body, "<strong>"+plural(tt.want, "dead delivery", "dead deliveries")+"</strong>") {
				t.Fatalf("the confirmation does not show N = %d:\n%s", tt.want, page.body)
			}
			form := url.Values{"csrf": {csrfOf(t, page.body)}, "state": {"dead"}}
			for k, v := range tt.filters {
				form[k] = v
			}
			r := e.do("POST", "/ui/deliveries/retry", form, withCookies(cookie(page.header, csrfCookie)))
			if want := "requeued=" + strconv.Itoa(tt.want); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), want) {
				t.Fatalf("bulk retry = %d to %q, want 303 with %s", r.status, r.header.Get("Location"), want)
			}
			cs.mu.Lock()
			defer cs.mu.Unlock()
			if len(cs.requeues) != tt.calls {
				t.Fatalf("Requeue called %d times (%+v), want %d", len(cs.requeues), cs.requeues, tt.calls)
			}
			for _, sel := range cs.requeues {
				if !tt.selector(sel) {
					t.Errorf("Requeue(%+v): not the expected selector", sel)
				}
			}
		})
	}
}
