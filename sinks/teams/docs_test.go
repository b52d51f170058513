package teams_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/internal/mdblocks"
)

// TestDocsExampleLoads checks that the YAML example of docs/sinks.md's "type: teams" section is a
// valid config, with its sink a teams sink at the default rate.
func TestDocsExampleLoads(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "sinks.md")
	blocks, err := mdblocks.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var example string
	for _, b := range blocks {
		if b.Lang == "yaml" && strings.Contains(b.Text, "type: teams") {
			example = b.Text
			break
		}
	}
	if example == "" {
		t.Fatalf("%s has no YAML example of a teams sink", path)
	}
	env := map[string]string{"TEAMS_SALES_WEBHOOK": "https://prod-00.westeurope.logic.azure.com/workflows/0/triggers/manual/paths/invoke?sig=s"}
	cfg, err := config.Parse(path, []byte(example), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the teams example of %s:\n%v", path, err)
	}
	s := cfg.Sink("sales-teams")
	if s == nil || s.Type != "teams" {
		t.Fatalf("sales-teams = %+v, want a teams sink", s)
	}
	if s.RateLimit == nil || s.RateLimit.String() != "4/s" {
		t.Errorf("sales-teams rate_limit = %v, want the default 4/s", s.RateLimit)
	}
	if len(cfg.Rules) != 1 || len(cfg.Rules[0].Actions) != 1 {
		t.Errorf("rules = %d, want one rule with one action", len(cfg.Rules))
	}
}
