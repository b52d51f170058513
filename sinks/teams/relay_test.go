package teams_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/relay"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/sinks/teams"
)

// commentedAction matches the example's sales-teams action, written as comments in hot-leads.
var commentedAction = regexp.MustCompile(`(?m)^      # (- sink: sales-teams\n(?:      #   .*\n)+)`)

// TestExampleThroughTheRelay runs a relay in process on config.example.yaml gone live for Teams (its
// sales-teams action uncommented, SALES_TEAMS_TYPE=teams, the webhook URL a fake Workflows webhook;
// every other sink the log), posts a hot lead whose values are full of Teams markup, and checks the
// card that arrives: the example's markdown kept, every value from the call escaped, the facts in the
// order written, no mention possible, and no secret in the relay's logs.
func TestExampleThroughTheRelay(t *testing.T) {
	url, arrived := teams.ServeWorkflows(t)
	for _, v := range []string{"SWITCHBOARD_TOKEN", "SWITCHBOARD_ADMIN_TOKEN", "SALES_SLACK_TYPE", "OPS_SLACK_TYPE",
		"CRM_TYPE", "SALES_EMAIL_TYPE"} {
		t.Setenv(v, "") // empty counts as unset: those sinks stay log sinks
	}
	t.Setenv("SALES_TEAMS_TYPE", "teams")
	t.Setenv("TEAMS_SALES_WEBHOOK", url)

	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := strings.Replace(string(example), "path: ./data/switchboard.db", "path: "+filepath.Join(dir, "sb.db"), 1)
	action := commentedAction.FindStringSubmatch(cfg)
	if action == nil {
		t.Fatal("config.example.yaml no longer has the commented sales-teams action in hot-leads: update this test")
	}
	cfg = strings.Replace(cfg, action[0], "      "+strings.ReplaceAll(action[1], "      #   ", "        "), 1)
	path := filepath.Join(dir, "switchboard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs := runRelay(t, path)

	name := "_Ann_ <at>Everyone</at>"
	summary := "**Free** money\n- injected item [click](https://evil.example) &lt;b&gt;"
	call, err := json.Marshal(map[string]any{
		"id": 1001, "status": "completed", "customer_phone": "+15550001111", "duration": 125,
		"input_variables":     map[string]any{"customer_name": name},
		"extracted_variables": map[string]any{"lead_quality": "high", "next_action": "call_back", "summary": summary},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/webhooks/intellixent", "application/json", strings.NewReader(string(call)))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook answered %d %s, want 202", resp.StatusCode, answer)
	}

	var body []byte
	select {
	case body = <-arrived:
	case <-time.After(30 * time.Second): // a bound on a hang, not a measurement
		t.Fatalf("no card reached Teams; relay logs:\n%s", logs)
	}
	var card teams.Body
	if err := json.Unmarshal(body, &card); err != nil {
		t.Fatalf("card %s: %v", body, err)
	}
	els := card.Attachments[0].Content.Body
	if len(els) != 3 {
		t.Fatalf("card body = %s, want a title, a text and a fact set", body)
	}
	if want := "Hot lead: " + teams.EscapeString(name); els[0].Text != want {
		t.Errorf("title = %q, want %q", els[0].Text, want)
	}
	if want := "**Next action: call\\_back.** " + teams.EscapeString(summary); els[1].Text != want {
		t.Errorf("text = %q, want %q", els[1].Text, want)
	}
	facts, err := json.Marshal(els[2].Facts)
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"title":"Phone","value":"+15550001111"},{"title":"Duration","value":"2 min 5 s"},` +
		`{"title":"Lead quality","value":"high"},{"title":"Recording","value":"none"}]`; string(facts) != want {
		t.Errorf("facts = %s, want %s", facts, want)
	}
	if strings.Contains(string(body), "msteams") {
		t.Errorf("card %s has an msteams entry: nothing from a call may add a mention", body)
	}
	sinktest.AssertNoSecrets(t, teams.Secrets, logs.String())
}

// runRelay runs a relay on the config at path, on a loopback listener, until the test ends, and returns
// its base URL and its logs.
func runRelay(t *testing.T, path string) (string, *sinktest.Buffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &sinktest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan net.Addr, 1), make(chan error, 1)
	go func() {
		done <- relay.Run(ctx, relay.Options{
			ConfigPath: path, Listener: ln, Ready: func(a net.Addr) { ready <- a },
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
	}()
	select {
	case a := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("relay.Run = %v after a clean shutdown", err)
			}
		})
		return "http://" + a.String(), logs
	case err := <-done:
		cancel()
		t.Fatalf("relay.Run returned before it was ready: %v\n%s", err, logs)
		return "", nil
	}
}
