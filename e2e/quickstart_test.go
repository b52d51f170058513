package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickStart runs the README's first command, `switchboard serve --config config.example.yaml`,
// with none of the example's variables set (only its listen address and storage path are changed, so
// the test runs anywhere), posts the spec's example call and checks that the log shows the Slack
// message it would send.
func TestQuickStart(t *testing.T) {
	for _, v := range []string{"SWITCHBOARD_TOKEN", "SWITCHBOARD_ADMIN_TOKEN", "SALES_SLACK_TYPE", "SLACK_SALES_WEBHOOK",
		"OPS_SLACK_TYPE", "SLACK_OPS_WEBHOOK", "CRM_TYPE", "CRM_WEBHOOK_URL", "CRM_TOKEN", "CRM_SIGNING_SECRET",
		"SALES_EMAIL_TYPE", "SMTP_HOST", "SMTP_PASSWORD"} {
		t.Setenv(v, "") // empty counts as unset: the example's defaults apply
	}
	example, err := os.ReadFile(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := string(example)
	for old, repl := range map[string]string{
		`listen: ":8080"`:             `listen: "` + addr + `"`,
		"path: ./data/switchboard.db": "path: " + filepath.Join(t.TempDir(), "switchboard.db"),
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("config.example.yaml no longer contains %q: update this test", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	path := filepath.Join(t.TempDir(), "switchboard.yaml")
	mustWrite(t, path, cfg)
	r := startRelay(t, "quickstart", path, addr)

	payload, err := os.ReadFile(filepath.Join("..", "examples", "hot-lead.json"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(r.base+"/webhooks/intellixent", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct {
		CallID     int64    `json:"call_id"`
		Matched    []string `json:"matched"`
		Deliveries int      `json:"deliveries"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &got) != nil ||
		got.CallID != 12345 || strings.Join(got.Matched, ",") != "hot-leads" || got.Deliveries != 3 {
		t.Fatalf("POST example: %d %s, want 202 {\"call_id\":12345,\"matched\":[\"hot-leads\"],\"deliveries\":3}", resp.StatusCode, raw)
	}
	r.waitLog(`Hot lead: John Doe (+******7890)`, 1) // the phone masked, as log.show_phone_numbers is false
	r.waitLog("msg=delivered", 3)
	r.stop()
}
