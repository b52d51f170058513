package router

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

func TestIngestAnswers(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string // default /hook
		token  string // sent as a bearer token
		body   string
		// wantStatus and wantContains check the answer; wantReason is the rejection counted, if any.
		wantStatus   int
		wantContains []string
		wantReason   string
		wantStored   bool
	}{
		{name: "accepted with bearer token", token: ingestToken,
			body:       `{"id": 101, "status": "completed", "lead": {"bonus": 1}}`,
			wantStatus: http.StatusAccepted, wantContains: []string{`"call_id":101`, `"matched":["hot"]`, `"deliveries":2`},
			wantStored: true},
		{name: "accepted with query token", target: "/hook?token=" + ingestToken,
			body:       `{"id": 102, "status": "failed"}`,
			wantStatus: http.StatusAccepted, wantContains: []string{`"call_id":102`, `"matched":["failed"]`, `"deliveries":1`},
			wantStored: true},
		{name: "accepted unmatched", token: ingestToken, body: `{"id": 103, "status": "busy", "extra": [1, 2]}`,
			wantStatus: http.StatusAccepted, wantContains: []string{`"call_id":103`, `"matched":[]`, `"deliveries":0`},
			wantStored: true},
		{name: "no token", body: `{"id": 104}`,
			wantStatus: http.StatusUnauthorized, wantContains: []string{"token"}, wantReason: ReasonUnauthorized},
		{name: "wrong bearer token", token: "nope", body: `{"id": 105}`,
			wantStatus: http.StatusUnauthorized, wantContains: []string{"token"}, wantReason: ReasonUnauthorized},
		{name: "wrong query token", target: "/hook?token=nope", body: `{"id": 106}`,
			wantStatus: http.StatusUnauthorized, wantContains: []string{"token"}, wantReason: ReasonUnauthorized},
		{name: "not JSON", token: ingestToken, body: `{"id": 107,`,
			wantStatus: http.StatusBadRequest, wantContains: []string{"not valid JSON"}, wantReason: ReasonBadJSON},
		{name: "not an object", token: ingestToken, body: `[{"id": 108}]`,
			wantStatus: http.StatusBadRequest, wantContains: []string{"not a JSON object"}, wantReason: ReasonBadJSON},
		{name: "empty body", token: ingestToken, body: ``,
			wantStatus: http.StatusBadRequest, wantContains: []string{"empty"}, wantReason: ReasonBadJSON},
		{name: "id missing", token: ingestToken, body: `{"status": "completed"}`,
			wantStatus: http.StatusBadRequest, wantContains: []string{`field \"id\"`, "required"}, wantReason: ReasonInvalid},
		{name: "id not a number", token: ingestToken, body: `{"id": "abc"}`,
			wantStatus: http.StatusBadRequest, wantContains: []string{`field \"id\"`, "positive integer"}, wantReason: ReasonInvalid},
		{name: "id negative", token: ingestToken, body: `{"id": -4}`,
			wantStatus: http.StatusBadRequest, wantContains: []string{`field \"id\"`}, wantReason: ReasonInvalid},
		{name: "known field of wrong type", token: ingestToken, body: `{"id": 109, "duration": "long"}`,
			wantStatus: http.StatusBadRequest, wantContains: []string{`field \"duration\"`}, wantReason: ReasonInvalid},
		{name: "map field of wrong type", token: ingestToken, body: `{"id": 110, "lead": [1]}`,
			wantStatus: http.StatusBadRequest, wantContains: []string{`field \"lead\"`}, wantReason: ReasonInvalid},
		{name: "too large", token: ingestToken, body: `{"id": 111, "pad": "` + strings.Repeat("x", 2048) + `"}`,
			wantStatus: http.StatusRequestEntityTooLarge, wantContains: []string{"max_body_bytes"}, wantReason: ReasonTooLarge},
		{name: "GET on the webhook path", method: http.MethodGet, token: ingestToken,
			wantStatus: http.StatusMethodNotAllowed, wantContains: []string{"POST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			method, target := tt.method, tt.target
			if method == "" {
				method = http.MethodPost
			}
			if target == "" {
				target = "/hook"
			}
			req, err := http.NewRequest(method, h.srv.URL+target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, target, err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			got := string(raw)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, got)
			}
			if tt.wantStatus >= 400 && !strings.HasPrefix(got, `{"error":`) {
				t.Errorf("body = %s, want a JSON object with an error", got)
			}
			for _, want := range tt.wantContains {
				if !strings.Contains(got, want) {
					t.Errorf("body = %s, want it to contain %s", got, want)
				}
			}
			if strings.Contains(got, ingestToken) {
				t.Errorf("body = %s echoes the token", got)
			}
			if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", resp.Header.Get("Allow"))
			}
			for _, reason := range []string{ReasonUnauthorized, ReasonTooLarge, ReasonBadJSON, ReasonInvalid, ReasonStorage} {
				want := 0.0
				if reason == tt.wantReason {
					want = 1
				}
				if got := testutil.ToFloat64(h.metrics.Rejections.WithLabelValues(reason)); got != want {
					t.Errorf("rejections{reason=%q} = %v, want %v", reason, got, want)
				}
			}
			wantOutcome := map[string]float64{outcomeAccepted: 0, outcomeDuplicate: 0, outcomeRejected: 0}
			switch {
			case tt.wantStored:
				wantOutcome[outcomeAccepted] = 1
			case tt.wantReason != "":
				wantOutcome[outcomeRejected] = 1
			}
			for outcome, want := range wantOutcome {
				if got := testutil.ToFloat64(h.metrics.Received.WithLabelValues(outcome)); got != want {
					t.Errorf("received{outcome=%q} = %v, want %v", outcome, got, want)
				}
			}
			calls, err := h.st.ListCalls(context.Background(), store.CallFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if stored := len(calls) == 1; stored != tt.wantStored {
				t.Errorf("stored %d calls, want stored=%v", len(calls), tt.wantStored)
			}
		})
	}
}

func TestIngestStoresWhatItAcknowledged(t *testing.T) {
	h := newHarness(t, "", nil)
	status, body := h.post(`{"id": 201, "status": "completed", "lead": {"bonus": 2}}`)
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202 (body %v)", status, body)
	}
	ds := h.deliveries(201)
	if len(ds) != 2 {
		t.Fatalf("stored %d deliveries, want 2", len(ds))
	}
	wants := []struct{ sink, message string }{
		{"chat", `{"text":"hot 201"}`},
		{"crm", `{"text":"bonus 3"}`},
	}
	for i, w := range wants {
		d := ds[i]
		if d.Rule != "hot" || d.Action != i || d.Sink != w.sink || d.State != store.Pending {
			t.Errorf("delivery %d = rule %q action %d sink %q state %q, want hot %d %q pending", i, d.Rule, d.Action, d.Sink, d.State, i, w.sink)
		}
		if string(d.Message) != w.message {
			t.Errorf("delivery %d message = %s, want %s", i, d.Message, w.message)
		}
	}
	c, err := h.st.GetCall(context.Background(), 201)
	if err != nil {
		t.Fatalf("get call: %v", err)
	}
	if c.Status != "completed" || len(c.Matched) != 1 || c.Matched[0] != "hot" {
		t.Errorf("call = status %q matched %v, want completed [hot]", c.Status, c.Matched)
	}
	if got := testutil.ToFloat64(h.metrics.RuleMatches.WithLabelValues("hot")); got != 1 {
		t.Errorf("rule_matches{rule=hot} = %v, want 1", got)
	}
}

func TestIngestDuplicate(t *testing.T) {
	h := newHarness(t, "", nil)
	const payload = `{"id": 301, "status": "completed", "lead": {"bonus": 1}}`
	if status, body := h.post(payload); status != http.StatusAccepted {
		t.Fatalf("first: status = %d, want 202 (body %v)", status, body)
	}
	status, body := h.post(payload)
	if status != http.StatusOK {
		t.Fatalf("second: status = %d, want 200 (body %v)", status, body)
	}
	if body["call_id"] != float64(301) || body["duplicate"] != true || len(body) != 2 {
		t.Errorf("second: body = %v, want {call_id: 301, duplicate: true}", body)
	}
	if got := len(h.deliveries(301)); got != 2 {
		t.Errorf("deliveries after duplicate = %d, want 2 (nothing new queued)", got)
	}
	if got := testutil.ToFloat64(h.metrics.Received.WithLabelValues(outcomeDuplicate)); got != 1 {
		t.Errorf("received{outcome=duplicate} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(h.metrics.Received.WithLabelValues(outcomeAccepted)); got != 1 {
		t.Errorf("received{outcome=accepted} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(h.metrics.RuleMatches.WithLabelValues("hot")); got != 1 {
		t.Errorf("rule_matches{rule=hot} = %v, want 1 (a duplicate matches nothing)", got)
	}
}

func TestIngestRenderFailureIsDeadLetter(t *testing.T) {
	h := newHarness(t, "", nil)
	// No lead.bonus: the crm action's template fails, the chat action renders.
	status, body := h.post(`{"id": 401, "status": "completed"}`)
	if status != http.StatusAccepted || body["deliveries"] != float64(2) {
		t.Fatalf("status = %d body %v, want 202 with 2 deliveries", status, body)
	}
	ds := h.deliveries(401)
	if len(ds) != 2 {
		t.Fatalf("stored %d deliveries, want 2", len(ds))
	}
	if ds[0].Sink != "chat" || ds[0].State != store.Pending {
		t.Errorf("chat delivery state = %q, want pending", ds[0].State)
	}
	dead := ds[1]
	if dead.Sink != "crm" || dead.State != store.Dead || dead.LastReason != "template" {
		t.Errorf("crm delivery = state %q reason %q, want dead with reason template", dead.State, dead.LastReason)
	}
	if !strings.Contains(dead.LastError, "lead.bonus") {
		t.Errorf("crm delivery error = %q, want it to name the failing expression", dead.LastError)
	}
	if got := testutil.ToFloat64(h.metrics.RenderErrors.WithLabelValues("hot", "crm")); got != 1 {
		t.Errorf("render_errors{rule=hot,sink=crm} = %v, want 1", got)
	}
}

func TestIngestUnmatchedCounted(t *testing.T) {
	h := newHarness(t, "", nil)
	if status, body := h.post(`{"id": 501, "status": "busy"}`); status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202 (body %v)", status, body)
	}
	if got := testutil.ToFloat64(h.metrics.Unmatched); got != 1 {
		t.Errorf("calls_unmatched = %v, want 1", got)
	}
	if _, err := h.st.GetCall(context.Background(), 501); err != nil {
		t.Errorf("unmatched call not stored: %v", err)
	}
}

func TestIngestStorageUnavailable(t *testing.T) {
	h := newHarness(t, "", nil)
	if err := h.st.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	status, body := h.post(`{"id": 601, "status": "completed", "lead": {"bonus": 1}}`)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503 (body %v)", status, body)
	}
	if msg, _ := body["error"].(string); !strings.Contains(msg, "send it again") {
		t.Errorf("error = %q, want it to tell the sender to send again", msg)
	}
	if got := testutil.ToFloat64(h.metrics.Rejections.WithLabelValues(ReasonStorage)); got != 1 {
		t.Errorf("rejections{reason=storage} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(h.metrics.Received.WithLabelValues(outcomeAccepted)); got != 0 {
		t.Errorf("received{outcome=accepted} = %v, want 0", got)
	}
	// Nothing was acknowledged, so nothing may be on disk.
	st, err := sqlite.Open(filepath.Clean(h.path), sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	defer st.Close()
	if _, err := st.GetCall(context.Background(), 601); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall after 503: err = %v, want not found", err)
	}
}

func TestIngestDurationObserved(t *testing.T) {
	h := newHarness(t, "", nil)
	h.post(`{"id": 701, "status": "failed"}`)
	h.do(http.MethodPost, "/hook", "", []byte(`{"id": 702}`))
	var m dto.Metric
	if err := h.metrics.IngestDuration.Write(&m); err != nil {
		t.Fatalf("write histogram: %v", err)
	}
	if got := m.GetHistogram().GetSampleCount(); got != 2 {
		t.Errorf("ingest_duration_seconds count = %d, want 2 (accepted and rejected requests)", got)
	}
}

// TestIngestConcurrentDuplicates sends the same call many times at once: exactly one is accepted and
// queues its deliveries; every other is answered as a duplicate.
func TestIngestConcurrentDuplicates(t *testing.T) {
	const copies = 16
	h := newHarness(t, "", nil)
	statuses := make([]int, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/hook", strings.NewReader(`{"id": 801, "status": "completed", "lead": {"bonus": 1}}`))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+ingestToken)
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusAccepted] != 1 || count[http.StatusOK] != copies-1 {
		t.Errorf("answers = %v, want one 202 and %d 200", count, copies-1)
	}
	if got := len(h.deliveries(801)); got != 2 {
		t.Errorf("deliveries = %d, want 2 (queued once)", got)
	}
	if got := testutil.ToFloat64(h.metrics.Received.WithLabelValues(outcomeDuplicate)); got != copies-1 {
		t.Errorf("received{outcome=duplicate} = %v, want %d", got, copies-1)
	}
}

// TestIngestRepliesStaySmall checks that no answer echoes the payload: the sender stores replies, and
// a payload carries personal data.
func TestIngestRepliesStaySmall(t *testing.T) {
	const marker = "Jane-Doe-555-0199"
	tests := []struct {
		name string
		body string
	}{
		{"accepted", `{"id": 901, "status": "completed", "lead": {"bonus": 1}, "customer_phone": "` + marker + `"}`},
		{"wrong type", `{"id": 902, "duration": "` + marker + `"}`},
		{"bad id", `{"id": "` + marker + `"}`},
		{"broken JSON", `{"id": 903, "summary": "` + marker + `"`},
		{"not an object", `["` + marker + `"]`},
	}
	h := newHarness(t, "", nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h.srv.Client().Post(h.srv.URL+"/hook?token="+ingestToken, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), marker) {
				t.Errorf("reply %s echoes the payload", raw)
			}
			if len(raw) > 200 {
				t.Errorf("reply is %d bytes, want at most 200: %s", len(raw), raw)
			}
		})
	}
}

func TestIngestRuleErrorCountsAsUnmatched(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		wantMatched   string
		wantRuleError float64
		wantUnmatched float64
	}{
		{"condition fails on a missing value", `{"id": 1101, "status": "busy"}`, `"matched":[]`, 1, 1},
		{"condition holds", `{"id": 1102, "status": "busy", "lead": {"bonus": 5}}`, `"matched":["risky"]`, 0, 0},
		{"condition false", `{"id": 1103, "status": "busy", "lead": {"bonus": 1}}`, `"matched":[]`, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			resp, err := h.srv.Client().Post(h.srv.URL+"/hook?token="+ingestToken, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(raw), tt.wantMatched) {
				t.Errorf("answer %d %s, want 202 with %s", resp.StatusCode, raw, tt.wantMatched)
			}
			if got := testutil.ToFloat64(h.metrics.RuleErrors.WithLabelValues("risky")); got != tt.wantRuleError {
				t.Errorf("rule_errors{rule=risky} = %v, want %v", got, tt.wantRuleError)
			}
			if got := testutil.ToFloat64(h.metrics.Unmatched); got != tt.wantUnmatched {
				t.Errorf("calls_unmatched = %v, want %v", got, tt.wantUnmatched)
			}
		})
	}
}
