package e2e

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestAdminGuard replays, against the real binary running without an admin token, the attacks that
// once worked on the admin API: a web page the operator opens POSTing a retry (any page can, and ids
// are sequential), DNS rebinding (a hostile name resolving to 127.0.0.1, so the request arrives on
// loopback with that name as Host), and a request claiming to be local through X-Real-IP. Each is
// refused with 403 and changes nothing; the same requests without the hostile part are answered.
func TestAdminGuard(t *testing.T) {
	s := newSQLiteSetup(t)
	r := s.start(t, "relay")
	const id = 12345
	requireAllAccepted(t, newPoster(3).postAll(context.Background(), []int64{id}, 1, func(int64) string { return r.base }, nil))
	s.slack.waitDelivered(deliveryDeadline, []string{slackKey(id)})
	r.waitMetric("switchboard_deliveries_total", map[string]string{"sink": "slack", "outcome": "delivered"}, 1)
	var slackDelivery apiDelivery
	for _, d := range r.callDeliveries(id) {
		if d.Sink == "slack" {
			slackDelivery = d
		}
	}
	if slackDelivery.State != "delivered" {
		t.Fatalf("slack delivery of call %d = %+v, want delivered", id, slackDelivery)
	}
	retry := "/api/deliveries/" + strconv.FormatInt(slackDelivery.ID, 10) + "/retry"
	call := "/api/calls/" + strconv.Itoa(id)

	tests := []struct {
		name    string
		method  string
		path    string
		host    string
		headers map[string]string
		want    int
	}{
		{name: "retry from a hostile web page", method: http.MethodPost, path: retry, headers: map[string]string{"Origin": "https://evil.example"}, want: http.StatusForbidden},
		{name: "retry with Sec-Fetch-Site cross-site", method: http.MethodPost, path: retry, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: http.StatusForbidden},
		{name: "reload from a hostile web page", method: http.MethodPost, path: "/-/reload", headers: map[string]string{"Origin": "https://evil.example"}, want: http.StatusForbidden},
		{name: "call read by DNS rebinding", method: http.MethodGet, path: call, host: "attacker.example", want: http.StatusForbidden},
		{name: "call read through X-Real-IP", method: http.MethodGet, path: call, headers: map[string]string{"X-Real-IP": "1.2.3.4"}, want: http.StatusForbidden},
		{name: "profile through X-Forwarded-Proto", method: http.MethodGet, path: "/debug/pprof/cmdline", headers: map[string]string{"X-Forwarded-Proto": "https"}, want: http.StatusForbidden},
		{name: "call read locally", method: http.MethodGet, path: call, want: http.StatusOK},
		{name: "call read as localhost", method: http.MethodGet, path: call, host: "localhost", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, r.base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := apiClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.path, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("%s %s: status %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.want)
			}
			if tt.want == http.StatusForbidden && (!strings.Contains(string(body), `"error"`) || strings.Contains(string(body), `"payload"`)) {
				t.Errorf("%s %s: body %s, want only an error", tt.method, tt.path, body)
			}
		})
	}

	// Nothing was requeued: the delivery is still delivered, and Slack got it once.
	var after apiDelivery
	r.getJSON("/api/deliveries/"+strconv.FormatInt(slackDelivery.ID, 10), http.StatusOK, &after)
	if after.State != "delivered" || after.Attempts != slackDelivery.Attempts {
		t.Errorf("after the refused retries: delivery %+v, want still delivered after %d attempts", after, slackDelivery.Attempts)
	}
	if n := s.slack.deliveredCount(slackKey(id)); n != 1 {
		t.Errorf("slack got call %d %d times, want once", id, n)
	}
	// The same retry from a local script (no Origin) is answered.
	if status, body := r.postAPI(retry); status != http.StatusOK {
		t.Errorf("POST %s from a local script: status %d %s, want 200", retry, status, body)
	}
	r.stop()
}
