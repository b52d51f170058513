package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs one command line in process and returns its exit status and output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// repoFile is a path to a file at the repository root.
func repoFile(name string) string { return filepath.Join("..", "..", name) }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	broken := writeFile(t, "broken.yaml", `sinks:
  ops: {type: log}
rules:
  - name: r1
    when: custmer_phone == "x"
    actions: [{sink: ops, text: hi}]
  - name: r2
    actions: [{sink: crm, text: hi}]
`)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
	}{
		{"example config is valid", []string{"check", "--config", repoFile("config.example.yaml")}, 0,
			[]string{"config.example.yaml: ok: 2 rule(s), 6 sink(s)"}},
		{"every problem with file and line", []string{"check", "--config", broken}, 1,
			[]string{"broken.yaml:5: rules[0].when:", "custmer_phone", "broken.yaml:8: rules[1].actions[0].sink: undefined sink \"crm\""}},
		{"missing file", []string{"check", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, 1, nil},
		{"stray argument is a usage error", []string{"check", "extra"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout = %q, want it to contain %q", out, w)
				}
			}
		})
	}
}

func TestCheckNeverPrintsSecrets(t *testing.T) {
	t.Setenv("SLACK_SALES_WEBHOOK", "https://hooks.slack.com/services/T0/B0/SECRETPATH")
	t.Setenv("SALES_SLACK_TYPE", "slack")
	t.Setenv("CRM_TYPE", "webhook")
	t.Setenv("CRM_WEBHOOK_URL", "https://crm.example.com/hook/SECRETCRM")
	t.Setenv("CRM_TOKEN", "SECRETTOKEN")
	for _, args := range [][]string{
		{"check", "--config", repoFile("config.example.yaml")},
		{"test", "--config", repoFile("config.example.yaml"), repoFile("examples/hot-lead.json")},
		{"test", "--json", "--config", repoFile("config.example.yaml"), repoFile("examples/hot-lead.json")},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s%s", args, code, out, errOut)
		}
		if strings.Contains(out+errOut, "SECRETPATH") || strings.Contains(out+errOut, "SECRETCRM") || strings.Contains(out+errOut, "SECRETTOKEN") {
			t.Errorf("%v printed a secret:\n%s%s", args, out, errOut)
		}
	}
}

func TestDryRunJSON(t *testing.T) {
	t.Setenv("SALES_SLACK_TYPE", "slack")
	t.Setenv("SLACK_SALES_WEBHOOK", "https://hooks.slack.com/services/T0/B0/X")
	bad := writeFile(t, "bad.json", `{"id": "twelve"}`)
	code, out, errOut := runCLI(t, `{"id": 7, "status": "busy"}`, "test", "--config", repoFile("config.example.yaml"),
		repoFile("examples/hot-lead.json"), "-", bad, "--json")
	if code != 1 {
		t.Fatalf("exit = %d, want 1 (one payload is invalid)\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want one per payload:\n%s", len(lines), out)
	}
	var hot, stdin, invalid dryRunResult
	for i, dst := range []*dryRunResult{&hot, &stdin, &invalid} {
		if err := json.Unmarshal([]byte(lines[i]), dst); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, lines[i])
		}
	}
	if hot.CallID != 12345 || strings.Join(hot.Matched, ",") != "hot-leads" || len(hot.Actions) != 3 {
		t.Errorf("hot lead: got %+v, want call 12345 matching hot-leads with 3 actions", hot)
	}
	slack := hot.Actions[0]
	msg, _ := json.Marshal(slack.Message)
	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct{ Text string }
		} `json:"blocks"`
	}
	const text = ":fire: Hot lead: John Doe (+1234567890)\nCustomer interested in product demo\n" +
		"Next action: schedule_demo · Duration: 2 min 5 s · Recording: https://portal.intellixent.ai/storage/recordings/call-12345.mp4"
	if err := json.Unmarshal(msg, &body); err != nil || slack.Sink != "sales-slack" || slack.Type != "slack" ||
		body.Text != text || len(body.Blocks) == 0 || body.Blocks[0].Text.Text != ":fire: Hot lead: John Doe" {
		t.Errorf("slack action = %+v %s, want the exact Slack text and a header naming the lead", slack, msg)
	}
	if stdin.Payload != "-" || strings.Join(stdin.Matched, ",") != "failed-calls" {
		t.Errorf("stdin payload: got %+v, want failed-calls matched", stdin)
	}
	if invalid.Error == "" || !strings.Contains(invalid.Error, `"id"`) {
		t.Errorf("invalid payload: error = %q, want one naming the id field", invalid.Error)
	}
}

func TestUsage(t *testing.T) {
	untested := writeFile(t, "untested.yaml", "sinks: {ops: {type: log}}\nrules: [{name: r, actions: [{sink: ops}]}]\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no command", nil, 2, "Usage:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"version", []string{"version"}, 0, "switchboard "},
		{"test without payload or tests", []string{"test", "--config", untested}, 2, "name at least one payload"},
		{"replay without selector", []string{"replay", "--config", repoFile("config.example.yaml")}, 2, "exactly one of"},
		{"replay with two selectors", []string{"replay", "--dead", "--call", "5"}, 2, "exactly one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, output %q; want exit %d and %q", code, out+errOut, tt.wantCode, tt.want)
			}
		})
	}
}

func TestDryRunShowsFailedConditions(t *testing.T) {
	cfg := writeFile(t, "sb.yaml", `sinks: {ops: {type: log}}
rules:
  - name: scored
    when: extracted_variables.score > 5
    actions: [{sink: ops, text: hi}]
`)
	code, out, errOut := runCLI(t, `{"id": 3}`, "test", "--json", "--config", cfg, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	var res dryRunResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if msg := res.RuleErrors["scored"]; !strings.Contains(msg, "null") || len(res.Matched) != 0 {
		t.Errorf("got %+v, want rule_errors.scored explaining the missing (null) score, and no match", res)
	}
	_, text, _ := runCLI(t, `{"id": 3}`, "test", "--config", cfg, "-")
	if !strings.Contains(text, "not matched: its condition failed:") {
		t.Errorf("text output = %q, want the failed condition shown", text)
	}
}

func TestDryRunJSONKeepsProblemsOffStdout(t *testing.T) {
	cfg := writeFile(t, "sb.yaml", "sinks: {ops: {type: log}}\nrules:\n  - name: r\n    when: custmer_phone == \"x\"\n    actions: [{sink: ops, text: hi}]\n")
	code, out, errOut := runCLI(t, `{"id": 3}`, "test", "--json", "--config", cfg, "-")
	if code != 1 || out != "" || !strings.Contains(errOut, "sb.yaml:4: rules[0].when:") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing on stdout, the problem on stderr", code, out, errOut)
	}
}

// writeFileIn writes content to dir/name and returns the path.
func writeFileIn(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
