package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiClient reads a relay's admin API and metrics. The relays run without an admin token, so the
// admin routes answer on loopback.
var apiClient = &http.Client{Timeout: 10 * time.Second}

// getJSON GETs path from r and decodes the JSON answer into v, failing unless the status is want.
func (r *relay) getJSON(path string, want int, v any) {
	r.t.Helper()
	resp, err := apiClient.Get(r.base + path)
	if err != nil {
		r.t.Fatalf("GET %s on %s: %v", path, r.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("GET %s on %s: read answer: %v", path, r.name, err)
	}
	if resp.StatusCode != want {
		r.t.Fatalf("GET %s on %s: got status %d %s, want %d", path, r.name, resp.StatusCode, b, want)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			r.t.Fatalf("GET %s on %s: decode %s: %v", path, r.name, b, err)
		}
	}
}

// apiDelivery is a delivery as GET /api/deliveries and /api/calls/{id} show it.
type apiDelivery struct {
	ID         int64  `json:"id"`
	CallID     int64  `json:"call_id"`
	Rule       string `json:"rule"`
	Action     int    `json:"action"`
	Sink       string `json:"sink"`
	State      string `json:"state"`
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error"`
	LastReason string `json:"last_reason"`
	LastStatus int    `json:"last_status"`
}

// deliveries returns GET /api/deliveries?state=state.
func (r *relay) deliveries(state string) []apiDelivery {
	r.t.Helper()
	var out struct {
		Deliveries []apiDelivery `json:"deliveries"`
	}
	r.getJSON("/api/deliveries?limit=1000&state="+state, http.StatusOK, &out)
	return out.Deliveries
}

// callDeliveries returns the deliveries of call id from GET /api/calls/{id}.
func (r *relay) callDeliveries(id int64) []apiDelivery {
	r.t.Helper()
	var out struct {
		Deliveries []apiDelivery `json:"deliveries"`
	}
	r.getJSON("/api/calls/"+strconv.FormatInt(id, 10), http.StatusOK, &out)
	return out.Deliveries
}

// metrics returns the Prometheus exposition of r.
func (r *relay) metrics() string {
	r.t.Helper()
	resp, err := apiClient.Get(r.base + "/metrics")
	if err != nil {
		r.t.Fatalf("GET /metrics on %s: %v", r.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		r.t.Fatalf("GET /metrics on %s: status %d, err %v", r.name, resp.StatusCode, err)
	}
	return string(b)
}

// metric returns the value of the sample of name whose labels include labels (nil: any), and
// whether there is one. It reads the text exposition format line by line.
func metric(exposition, name string, labels map[string]string) (float64, bool) {
	for line := range strings.Lines(exposition) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		var labelText string
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.Index(rest, "}")
			if end < 0 {
				continue
			}
			labelText, rest = rest[1:end], rest[end+1:]
		case strings.HasPrefix(rest, " "):
		default:
			continue // a longer name with this prefix
		}
		if !hasLabels(labelText, labels) {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		return v, true
	}
	return 0, false
}

// hasLabels reports whether the label text `a="x",b="y"` includes every pair of want.
func hasLabels(text string, want map[string]string) bool {
	for k, v := range want {
		if !strings.Contains(","+text+",", ","+k+"="+strconv.Quote(v)+",") {
			return false
		}
	}
	return true
}

// requireMetric fails unless the sample exists and has value want.
func (r *relay) requireMetric(exposition, name string, labels map[string]string, want float64) {
	r.t.Helper()
	got, ok := metric(exposition, name, labels)
	if !ok {
		r.t.Errorf("%s: metric %s%v is missing", r.name, name, labels)
		return
	}
	if got != want {
		r.t.Errorf("%s: metric %s%v = %v, want %v", r.name, name, labels, got, want)
	}
}

func TestMetricParser(t *testing.T) {
	const expo = `# HELP switchboard_deliveries_total Deliveries.
# TYPE switchboard_deliveries_total counter
switchboard_deliveries_total{outcome="delivered",sink="slack"} 12
switchboard_deliveries_total{outcome="dead",sink="slack"} 1
switchboard_config_last_reload_successful 0
switchboard_config_last_reload_successful_other 5
`
	tests := []struct {
		name    string
		metric  string
		labels  map[string]string
		want    float64
		wantHit bool
	}{
		{name: "labels in any order", metric: "switchboard_deliveries_total", labels: map[string]string{"sink": "slack", "outcome": "dead"}, want: 1, wantHit: true},
		{name: "first label match", metric: "switchboard_deliveries_total", labels: map[string]string{"outcome": "delivered"}, want: 12, wantHit: true},
		{name: "no labels", metric: "switchboard_config_last_reload_successful", want: 0, wantHit: true},
		{name: "missing label value", metric: "switchboard_deliveries_total", labels: map[string]string{"sink": "crm"}},
		{name: "missing name", metric: "switchboard_nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := metric(expo, tt.metric, tt.labels)
			if ok != tt.wantHit || got != tt.want {
				t.Errorf("metric(%s, %v) = %v, %v; want %v, %v", tt.metric, tt.labels, got, ok, tt.want, tt.wantHit)
			}
		})
	}
}

// waitMetric polls /metrics until the sample reaches at least want, and returns the exposition
// then. The fake receivers see a delivery a moment before the relay records it, so a test that
// waited for the fake waits here for the relay's bookkeeping.
func (r *relay) waitMetric(name string, labels map[string]string, want float64) string {
	r.t.Helper()
	deadline := time.NewTimer(readyDeadline)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		m := r.metrics()
		got, _ := metric(m, name, labels)
		if got >= want {
			return m
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			r.t.Fatalf("%s: metric %s%v = %v within %s, want %v", r.name, name, labels, got, readyDeadline, want)
		}
	}
}

// postAPI POSTs an empty body to path on r and returns the status and the answer.
func (r *relay) postAPI(path string) (int, string) {
	r.t.Helper()
	resp, err := apiClient.Post(r.base+path, "", nil)
	if err != nil {
		r.t.Fatalf("POST %s on %s: %v", path, r.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("POST %s on %s: read answer: %v", path, r.name, err)
	}
	return resp.StatusCode, string(b)
}

// waitQueueEmpty polls the admin API until r's store has no pending or in-flight delivery, so that
// every send still owed (a retry, a lease taken over from a killed process) has happened and the
// fake receivers' counts are final.
func (r *relay) waitQueueEmpty() {
	r.t.Helper()
	deadline := time.NewTimer(loadDeadline)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		pending, inFlight := len(r.deliveries("pending")), len(r.deliveries("in_flight"))
		if pending == 0 && inFlight == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			r.t.Fatalf("%s: queue not empty within %s: %d pending, %d in flight", r.name, loadDeadline, pending, inFlight)
		}
	}
}
