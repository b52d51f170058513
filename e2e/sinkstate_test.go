package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// apiSink is a sink as GET /api/sinks shows it.
type apiSink struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	Pending   int    `json:"pending"`
	InFlight  int    `json:"in_flight"`
	Dead      int    `json:"dead"`
	LastError string `json:"last_error"`
	ChangedBy string `json:"state_changed_by"`
}

// sink returns one sink of GET /api/sinks.
func (r *relay) sink(name string) apiSink {
	r.t.Helper()
	var out struct {
		Sinks []apiSink `json:"sinks"`
	}
	r.getJSON("/api/sinks", http.StatusOK, &out)
	for _, s := range out.Sinks {
		if s.Name == name {
			return s
		}
	}
	r.t.Fatalf("GET /api/sinks on %s: no sink %q in %+v", r.name, name, out.Sinks)
	return apiSink{}
}

// TestPausedSinkReceivesNothingUntilResumed: `switchboard pause crm` (another process, on the running
// relay's database) stops the CRM at once: calls posted afterwards reach Slack but not the CRM, and
// wait in the queue. POST /api/sinks/crm/resume sends them all. Both changes are logged with who asked.
func TestPausedSinkReceivesNothingUntilResumed(t *testing.T) {
	s := newSQLiteSetup(t)
	r := s.start(t, "relay")

	code, stdout, stderr := runCommand(t, "pause", "crm", "--config", s.configPath)
	if code != 0 || !strings.Contains(stdout, "sink crm paused (was active)") {
		t.Fatalf("switchboard pause crm: exit %d, stdout %q, stderr %q; want exit 0 and the change", code, stdout, stderr)
	}
	ids := idRange(5_000_001, 6)
	requireAllAccepted(t, newPoster(5).postAll(context.Background(), ids, 3, func(int64) string { return r.base }, nil))
	slackKeys, crmKeys := keysOf(ids)
	s.slack.waitDelivered(deliveryDeadline, slackKeys)
	r.waitMetric("switchboard_sink_state", map[string]string{"sink": "crm", "state": "paused"}, 1)
	r.waitLog(`sink state changed by another process`, 1)
	r.waitLog(`by=cli`, 1)

	// Every Slack message went out; the same calls' CRM deliveries are stored and waiting.
	got := r.sink("crm")
	if got.State != "paused" || got.Pending != len(ids) || got.InFlight != 0 || got.Dead != 0 || got.ChangedBy != "cli" {
		t.Errorf("crm while paused = %+v, want paused by cli with %d pending, none in flight or dead", got, len(ids))
	}
	if n := s.crm.stats().Requests; n != 0 {
		t.Fatalf("paused crm received %d requests, want 0", n)
	}
	if slack := r.sink("slack"); slack.State != "active" {
		t.Errorf("slack = %+v, want active: a pause is per sink", slack)
	}

	code, body := r.postAPI("/api/sinks/crm/resume")
	if code != http.StatusOK || !strings.Contains(body, `"state":"active"`) {
		t.Fatalf("POST /api/sinks/crm/resume: %d %s, want 200 and state active", code, body)
	}
	s.crm.waitDelivered(deliveryDeadline, crmKeys)
	r.waitLog(`sink=crm from=paused to=active by="api 127.0.0.1:`, 1)
	r.waitMetric("switchboard_sink_state", map[string]string{"sink": "crm", "state": "active"}, 1)
	if st := s.crm.stats(); st.Keys != len(ids) || st.Duplicates() != 0 {
		t.Errorf("crm after resume: %d keys, %d duplicates; want %d, 0", st.Keys, st.Duplicates(), len(ids))
	}
	if code, body := r.postAPI("/api/sinks/nope/pause"); code != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("POST /api/sinks/nope/pause: %d %s, want 404 with an error", code, body)
	}
	r.stop()
	r.assertNoSecrets(s.secrets()...)
}

// TestHeldSinkKeepsItsDeliveries: the CRM answers 503 to everything. After hold_after (2s) the sink
// is held: its deliveries stop aging, so they outlive max_age (4s) without becoming dead letters, and
// only one probe per probe_interval is sent (always the oldest delivery). When the CRM recovers, the
// next probe succeeds, the sink is active again and every delivery is sent.
func TestHeldSinkKeepsItsDeliveries(t *testing.T) {
	s := newSQLiteSetup(t)
	s.cfg.HoldAfter, s.cfg.ProbeInterval, s.cfg.MaxAge = "2s", "500ms", "4s"
	s.cfg.write(t, s.configPath)
	s.crm.setMode(modeUnavailable)
	r := s.start(t, "relay")

	ids := idRange(6_000_001, 4)
	requireAllAccepted(t, newPoster(6).postAll(context.Background(), ids, 1, func(int64) string { return r.base }, nil))
	slackKeys, crmKeys := keysOf(ids)
	s.slack.waitDelivered(deliveryDeadline, slackKeys)
	r.waitMetric("switchboard_sink_state", map[string]string{"sink": "crm", "state": "held"}, 1)
	r.waitLog(`msg="sink held`, 1)

	// Eight probes, one per probe_interval (500ms), take over 3.5s after a hold that came over 2s
	// after the calls: past max_age (4s) for every delivery, had it kept aging.
	r.waitLog(`msg="probing held sink"`, 8)
	got := r.sink("crm")
	if got.State != "held" || got.Dead != 0 || got.Pending+got.InFlight != len(ids) || !strings.Contains(got.LastError, "503") {
		t.Errorf("crm while held = %+v, want held, %d waiting, none dead, last error naming the 503", got, len(ids))
	}
	if dead := r.deliveries("dead"); len(dead) != 0 {
		t.Fatalf("dead deliveries while held: %d (first %+v), want 0: held deliveries do not age", len(dead), dead[0])
	}
	// Probes go to the oldest delivery only.
	for _, line := range strings.Split(r.out.String(), "\n") {
		if strings.Contains(line, `msg="probing held sink"`) && !strings.Contains(line, "call_id="+strconv.FormatInt(ids[0], 10)) {
			t.Errorf("probe of another delivery than the oldest (call %d): %s", ids[0], line)
		}
	}

	s.crm.setMode(modeOK)
	s.crm.waitDelivered(deliveryDeadline, crmKeys)
	r.waitLog(`msg="sink recovered`, 1)
	r.waitMetric("switchboard_sink_state", map[string]string{"sink": "crm", "state": "active"}, 1)
	if dead := r.deliveries("dead"); len(dead) != 0 {
		t.Errorf("dead deliveries after recovery: %d, want 0", len(dead))
	}
	r.stop()
	r.assertNoSecrets(s.secrets()...)
}

// TestHeldSinkNotified: with notify.sink_down, ops hears once that the CRM is held, and once that it
// recovered, in messages naming the sink.
func TestHeldSinkNotified(t *testing.T) {
	s := newSQLiteSetup(t)
	ops := newSlack(t)
	s.cfg.OpsURL, s.cfg.SinkDown = ops.url(), true
	s.cfg.HoldAfter, s.cfg.ProbeInterval = "1s", "300ms"
	s.cfg.write(t, s.configPath)
	s.crm.setMode(modeUnavailable)
	r := s.start(t, "relay")

	ids := idRange(6_100_001, 2)
	requireAllAccepted(t, newPoster(6).postAll(context.Background(), ids, 1, func(int64) string { return r.base }, nil))
	_, crmKeys := keysOf(ids)
	notified := func(want string) func(*receiver) bool {
		return func(r *receiver) bool {
			for _, text := range r.texts[""] {
				if strings.Contains(text, want) {
					return true
				}
			}
			return false
		}
	}
	ops.waitFor(deliveryDeadline, "a sink_down message saying crm is held", notified("sink crm is held"))
	s.crm.setMode(modeOK)
	s.crm.waitDelivered(deliveryDeadline, crmKeys)
	ops.waitFor(deliveryDeadline, "a sink_down message saying crm recovered", notified("sink crm is active again"))
	r.waitMetric("switchboard_notifications_total", map[string]string{"kind": "sink_down", "outcome": "delivered"}, 2)
	var held, recovered int
	for _, text := range ops.textsOf("") {
		held += strings.Count(text, "sink crm is held")
		recovered += strings.Count(text, "sink crm is active again")
	}
	if held != 1 || recovered != 1 {
		t.Errorf("sink_down messages: %d held, %d recovered, want 1 each (%q)", held, recovered, ops.textsOf(""))
	}
	r.stop()
	r.assertNoSecrets(s.secrets()...)
}
