package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDryRunSaysWhy: a rule that did not match names the part of its condition that was false, in
// the text and in --json, worded as the web console words it.
func TestDryRunSaysWhy(t *testing.T) {
	cfg := repoFile("config.example.yaml")
	payload := repoFile("examples/failed-call.json")
	want := `not matched: status == "completed" is false (status is "failed")`
	_, text, errOut := runCLI(t, "", "test", "--config", cfg, payload)
	if !strings.Contains(text, "rule hot-leads            "+want) {
		t.Errorf("text output = %q (%s), want %q", text, errOut, want)
	}
	_, out, _ := runCLI(t, "", "test", "--json", "--config", cfg, payload)
	var res dryRunResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(res.Why) != 2 || res.Why[0] != "hot-leads: "+want || res.Why[1] != "failed-calls: matched" {
		t.Errorf("why = %q", res.Why)
	}
}
