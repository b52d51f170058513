package rules

import (
	"testing"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
)

func TestExplain(t *testing.T) {
	const src = `
sinks:
  out: { type: log }
rules:
  - name: hot
    when: status == "completed" && extracted_variables.lead_quality == "high" && duration > 60
    actions: [{ sink: out, text: hi }]
  - name: either
    when: status == "busy" || duration > 1000
    actions: [{ sink: out, text: hi }]
  - name: broken
    when: extracted_variables.count > 3
    actions: [{ sink: out, text: hi }]
  - name: everything
    stop: true
    actions: [{ sink: out, text: hi }]
  - name: after
    actions: [{ sink: out, text: hi }]
`
	cfg, err := config.Parse("c.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := call.Decode([]byte(`{"id":1,"status":"completed","duration":90,"extracted_variables":{"lead_quality":"medium","count":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := rs.Explain(c)
	want := []string{
		`not matched: extracted_variables.lead_quality == "high" is false (extracted_variables.lead_quality is "medium")`,
		`not matched: status == "busy" || duration > 1000 is false`,
		"not matched: its condition failed: ",
		"matched",
		"not evaluated: rule everything matched and has stop: true",
	}
	if len(got) != len(want) {
		t.Fatalf("Explain gave %d verdicts, want %d", len(got), len(want))
	}
	for i, v := range got {
		s := v.String()
		if i == 2 {
			if v.Err == nil || s[:len(want[i])] != want[i] {
				t.Errorf("verdict %d = %q, want it to start with %q", i, s, want[i])
			}
			continue
		}
		if s != want[i] {
			t.Errorf("verdict %d (%s) = %q, want %q", i, v.Rule, s, want[i])
		}
	}
	// Explain agrees with Evaluate.
	res := rs.Evaluate(c)
	var matched []string
	for _, v := range got {
		if v.Matched {
			matched = append(matched, v.Rule)
		}
	}
	if len(matched) != len(res.Matched) || matched[0] != res.Matched[0] {
		t.Errorf("Explain matched %v, Evaluate %v", matched, res.Matched)
	}
}
