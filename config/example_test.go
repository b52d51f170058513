package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExampleConfig loads config.example.yaml with no environment at all: it must work for a
// newcomer who has set nothing, with every sink writing to the log.
func TestExampleConfig(t *testing.T) {
	file := filepath.Join("..", "config.example.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(file, data, nil)
	if err != nil {
		t.Fatalf("config.example.yaml with an empty environment:\n%v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings on a first run:\n%v", cfg.Warnings)
	}
	if got, want := sinkNames(cfg), []string{"sales-slack", "ops-slack", "crm", "sales-teams", "sales-email", "reps-sms"}; !equalStrings(got, want) {
		t.Errorf("sinks = %q, want %q", got, want)
	}
	for _, s := range cfg.Sinks {
		if s.Type != "log" {
			t.Errorf("sink %s type = %q, want \"log\" when no environment is set", s.Name, s.Type)
		}
	}
	if cfg.Notify.DeadLetters == nil || cfg.Notify.DeadLetters.Sink != "ops-slack" || cfg.Notify.SinkDown == nil {
		t.Errorf("notify = %+v, want dead_letters and sink_down to ops-slack", cfg.Notify)
	}
	if got, want := len(cfg.Rules), 2; got != want {
		t.Fatalf("rules = %d, want %d", got, want)
	}
	if got, want := len(cfg.Rules[0].Actions), 3; got != want {
		t.Errorf("hot-leads actions = %d, want %d", got, want)
	}
	if want, _ := filepath.Abs(filepath.Join("..", "data", "switchboard.db")); cfg.Storage.Path != want {
		t.Errorf("storage path = %q, want %q (beside the config file)", cfg.Storage.Path, want)
	}
}

// TestExampleConfigLive sets every variable the example's comments mention and checks that each
// sink then goes live with its real type.
func TestExampleConfigLive(t *testing.T) {
	env := map[string]string{
		"SALES_SLACK_TYPE":    "slack",
		"SLACK_SALES_WEBHOOK": "https://hooks.slack.com/services/T0/B0/sales",
		"OPS_SLACK_TYPE":      "slack",
		"SLACK_OPS_WEBHOOK":   "https://hooks.slack.com/services/T0/B0/ops",
		"CRM_TYPE":            "webhook",
		"CRM_WEBHOOK_URL":     "https://crm.example.com/hook",
		"CRM_TOKEN":           "t",
		"SALES_EMAIL_TYPE":    "email",
		"SMTP_HOST":           "smtp.example.com",
		"SMTP_PASSWORD":       "p",
		"SALES_TEAMS_TYPE":    "teams",
		"TEAMS_SALES_WEBHOOK": "https://prod-00.westeurope.logic.azure.com/workflows/0/triggers/manual/paths/invoke?sig=s",
	}
	file := filepath.Join("..", "config.example.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(file, data, mapEnv(env))
	if err != nil {
		t.Fatalf("config.example.yaml gone live:\n%v", err)
	}
	want := map[string]string{"sales-slack": "slack", "ops-slack": "slack", "crm": "webhook", "sales-email": "email", "sales-teams": "teams"}
	for name, typ := range want {
		if got := cfg.Sink(name).Type; got != typ {
			t.Errorf("sink %s type = %q, want %q", name, got, typ)
		}
	}
	if got := cfg.Sink("crm").Delivery.Retry.MaxAttempts; got != 20 {
		t.Errorf("crm max_attempts = %d, want the override 20", got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkParseExample measures loading the example config, which `serve` does on every reload.
func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse("config.example.yaml", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}
