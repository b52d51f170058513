package rules

import (
	"os"
	"testing"

	"github.com/switchboard-relay/switchboard/call"
)

// The benchmarks use testdata/bench: a 20-rule config of which four rules match, and a ~5 KB call.
// docs/benchmarks.md records their figures.

func benchSetup(b *testing.B) (*Ruleset, []byte) {
	b.Helper()
	rs := mustLoad(b, "testdata/bench/config.yaml")
	body, err := os.ReadFile("testdata/bench/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	return rs, body
}

// TestBenchConfig keeps the benchmark honest: the typical call matches the four rules it is meant to
// and every action renders.
func TestBenchConfig(t *testing.T) {
	rs := mustLoad(t, "testdata/bench/config.yaml")
	res := rs.Evaluate(mustDecode(t, "testdata/bench/typical.json"))
	want := "hot-leads,demo-requests,big-teams,long-calls"
	if got := joinNames(res.Matched); got != want || len(res.Actions) != 5 || len(res.Errors) != 0 {
		t.Fatalf("matched %s with %d actions and errors %v, want %s with 5 actions", got, len(res.Actions), res.Errors, want)
	}
	for _, a := range res.Actions {
		if a.Err != nil {
			t.Errorf("action %s[%d]: %v", a.Rule, a.Index, a.Err)
		}
	}
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ","
		}
		out += n
	}
	return out
}

// BenchmarkEvaluate is the 20-rule match plus the rendering of the five matching actions.
func BenchmarkEvaluate(b *testing.B) {
	rs, body := benchSetup(b)
	c, err := call.Decode(body)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rs.Evaluate(c)
	}
}

// benchAction renders one action of the bench config in isolation.
func benchAction(b *testing.B, rule string, index int) {
	rs, body := benchSetup(b)
	c, err := call.Decode(body)
	if err != nil {
		b.Fatal(err)
	}
	var a *action
	for _, r := range rs.rules {
		if r.name == rule {
			a = r.actions[index]
		}
	}
	st := &state{call: c, env: map[string]any{}}
	fillEnv(st.env, c, rs.console)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.render(st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderSlack renders a typical Slack text with two inserted values.
func BenchmarkRenderSlack(b *testing.B) { benchAction(b, "hot-leads", 0) }

// BenchmarkRenderCRMBody renders a CRM body of eight keys, seven of them templates.
func BenchmarkRenderCRMBody(b *testing.B) { benchAction(b, "hot-leads", 1) }

// BenchmarkIngest is what the server does per webhook: decode, match 20 rules, render.
func BenchmarkIngest(b *testing.B) {
	rs, body := benchSetup(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := call.Decode(body)
		if err != nil {
			b.Fatal(err)
		}
		rs.Evaluate(c)
	}
}
