package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// busyRule is a rule to append to relayConfig.
func busyRule(name string) string {
	return `
  - name: ` + name + `
    when: status == "busy"
    actions:
      - sink: sales-log
        text: "busy {{ id }}"
`
}

// brokenRules has two problems: an unknown field in `when` and an undefined sink.
const brokenRules = `
  - name: broken
    when: statuz == "busy"
    actions:
      - sink: nowhere
        text: "x"
`

var busyID atomic.Int64

// postBusy posts a busy call and returns the rules it matched.
func postBusy(t *testing.T, r *relay) []string {
	t.Helper()
	id := 5000 + busyID.Add(1)
	status, body := r.post(fmt.Sprintf(`{"id": %d, "status": "busy"}`, id))
	if status != http.StatusAccepted {
		t.Fatalf("post busy call: status %d (%v)", status, body)
	}
	var matched []string
	for _, m := range body["matched"].([]any) {
		matched = append(matched, m.(string))
	}
	return matched
}

// waitReloadGauge polls /metrics until switchboard_config_last_reload_successful is want.
func waitReloadGauge(t *testing.T, r *relay, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		_, mfs := r.scrape()
		if gaugeValue(t, mfs, "switchboard_config_last_reload_successful") == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("config_last_reload_successful did not become %v within 20s; logs:\n%s", want, r.logs)
		}
		<-tick.C // the gauge is the only signal that a channel reload finished
	}
}

func TestReload(t *testing.T) {
	crm := newFakeCRM(t)
	r := startRelay(t, relayConfig, crm.srv.URL)
	write := func(yml string) { writeConfig(t, r.cfg, yml, crm.srv.URL, r.db) }
	httpReload := func() (int, map[string]any) {
		status, raw := r.request(http.MethodPost, "/-/reload", adminToken, "")
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("reload answer %q: %v", raw, err)
		}
		return status, out
	}
	steps := []struct {
		name        string
		config      string
		viaChannel  bool
		wantOK      bool
		wantMatched string // the rules a busy call matches afterwards
	}{
		{name: "start", config: relayConfig, wantOK: true, wantMatched: "[failed-calls]"},
		{name: "HTTP reload adds a rule", config: relayConfig + busyRule("busy-audit"), wantOK: true,
			wantMatched: "[failed-calls busy-audit]"},
		{name: "HTTP reload of an invalid file keeps the old rules", config: relayConfig + brokenRules,
			wantMatched: "[failed-calls busy-audit]"},
		{name: "channel reload adds a rule", config: relayConfig + busyRule("busy-audit") + busyRule("busy-two"),
			viaChannel: true, wantOK: true, wantMatched: "[failed-calls busy-audit busy-two]"},
		{name: "channel reload of an invalid file keeps the old rules", config: relayConfig + brokenRules,
			viaChannel: true, wantMatched: "[failed-calls busy-audit busy-two]"},
		{name: "HTTP reload recovers", config: relayConfig, wantOK: true, wantMatched: "[failed-calls]"},
	}
	for i, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			if i > 0 {
				write(st.config)
				switch {
				case st.viaChannel:
					r.reload <- struct{}{}
					want := 0.0
					if st.wantOK {
						want = 1
					}
					waitReloadGauge(t, r, want)
				default:
					status, body := httpReload()
					checkReloadAnswer(t, status, body, st.wantOK, r.cfg)
				}
			}
			_, mfs := r.scrape()
			want := 0.0
			if st.wantOK {
				want = 1
			}
			if got := gaugeValue(t, mfs, "switchboard_config_last_reload_successful"); got != want {
				t.Errorf("config_last_reload_successful = %v, want %v", got, want)
			}
			if got := fmt.Sprint(postBusy(t, r)); got != st.wantMatched {
				t.Errorf("busy call matched %s, want %s", got, st.wantMatched)
			}
		}) {
			return
		}
	}
	if logs := r.logs.String(); !strings.Contains(logs, "config reload rejected") {
		t.Errorf("logs do not say a reload was rejected:\n%s", logs)
	}
}

// checkReloadAnswer checks a /-/reload answer: 200, or 400 listing each problem with file and line.
func checkReloadAnswer(t *testing.T, status int, body map[string]any, wantOK bool, file string) {
	t.Helper()
	if wantOK {
		if status != http.StatusOK {
			t.Fatalf("reload: status %d (%v), want 200", status, body)
		}
		return
	}
	if status != http.StatusBadRequest {
		t.Fatalf("reload: status %d (%v), want 400", status, body)
	}
	if msg, _ := body["error"].(string); !strings.Contains(msg, "previous one stays in force") {
		t.Errorf("reload error = %q, want it to say the previous config stays", msg)
	}
	problems, _ := body["problems"].([]any)
	if len(problems) != 2 {
		t.Fatalf("problems = %v, want 2 (unknown field and undefined sink)", body["problems"])
	}
	for i, want := range []string{"statuz", `"nowhere"`} {
		p, _ := problems[i].(string)
		if !strings.HasPrefix(p, file+":") || !strings.Contains(p, want) {
			t.Errorf("problems[%d] = %q, want %s:line: … naming %s", i, p, file, want)
		}
	}
}

// TestReloadProblemsHideSecrets rejects configs whose secret values are wrong: the problems name the
// key, never the value.
func TestReloadProblemsHideSecrets(t *testing.T) {
	crm := newFakeCRM(t)
	r := startRelay(t, relayConfig, crm.srv.URL)
	tests := []struct {
		name    string
		from    string // replaced in relayConfig
		to      string
		wantKey string
		secret  string
	}{
		{name: "crm url not http", from: "url: CRM_URL", to: "url: ftp://crm.example.com", wantKey: "sinks.crm.url", secret: crmPath},
		{name: "crm url unparsable", from: "url: CRM_URL", to: "url: http://[::1", wantKey: "sinks.crm.url", secret: crmPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeConfig(t, r.cfg, strings.Replace(relayConfig, tt.from, tt.to, 1), crm.srv.URL, r.db)
			status, raw := r.request(http.MethodPost, "/-/reload", adminToken, "")
			if status != http.StatusBadRequest {
				t.Fatalf("reload: status %d (%s), want 400", status, raw)
			}
			if !strings.Contains(string(raw), tt.wantKey) {
				t.Errorf("reload answer %s does not name %s", raw, tt.wantKey)
			}
			for _, s := range []string{tt.secret, crmHeader, adminToken, ingestToken} {
				if strings.Contains(string(raw), s) || strings.Contains(r.logs.String(), s) {
					t.Errorf("the secret %q is in the reload answer or the logs: %s", s, raw)
				}
			}
		})
	}
}
