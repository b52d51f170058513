package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// initEnvNames are the variables init writes to switchboard.env.
var initEnvNames = []string{"SWITCHBOARD_TOKEN", "SWITCHBOARD_ADMIN_TOKEN", "SLACK_SALES_WEBHOOK", "CRM_WEBHOOK_URL",
	"SLACK_ALERTS_WEBHOOK", "SMTP_PASSWORD"}

// isolateEnv unsets names for the test and restores them (and removes what the test set) afterwards,
// since loading an environment file sets process variables.
func isolateEnv(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		t.Setenv(n, "") // registers the restore
		os.Unsetenv(n)
	}
}

// readEnvFile returns the variables of an environment file.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := parseEnvFile(path, data)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, kv := range vars {
		m[kv[0]] = kv[1]
	}
	return m
}

func TestInit(t *testing.T) {
	tests := []struct {
		name        string
		flags       []string
		wantSinks   string   // check's summary of sink types
		wantEnv     []string // variables in switchboard.env besides the tokens
		wantInYAML  []string
		neverInYAML []string // secrets stay in switchboard.env
	}{
		{"no flags and no terminal: all log sinks", nil, "(4 log)", nil,
			[]string{"type: log", `lead_quality in ["high"]`}, nil},
		{"every destination from flags", []string{
			"--slack-webhook", "https://hooks.slack.com/services/T0/B0/SALESSECRET",
			"--crm-url", "https://crm.example.com/hook/CRMSECRET",
			"--alerts-slack-webhook", "https://hooks.slack.com/services/T0/B0/OPSSECRET",
			"--smtp-url", "smtp://relay@example.com:PASSSECRET@smtp.example.com:2525", "--email-to", "sales@example.com",
			"--hot", "high, medium", "--storage-path", "/var/lib/switchboard/switchboard.db",
		}, "(1 email, 1 webhook, 2 slack)",
			[]string{"SLACK_SALES_WEBHOOK", "CRM_WEBHOOK_URL", "SLACK_ALERTS_WEBHOOK", "SMTP_PASSWORD"},
			[]string{"port: 2525", `username: "relay@example.com"`, `lead_quality in ["high", "medium"]`, `path: "/var/lib/switchboard/switchboard.db"`},
			[]string{"SALESSECRET", "CRMSECRET", "OPSSECRET", "PASSSECRET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t, initEnvNames...)
			dir := t.TempDir()
			out := filepath.Join(dir, "conf", "switchboard.yaml")
			code, stdout, stderr := runCLI(t, "", append([]string{"init", "--out", out}, tt.flags...)...)
			if code != 0 {
				t.Fatalf("init exit = %d\n%s%s", code, stdout, stderr)
			}
			envPath := filepath.Join(dir, "conf", "switchboard.env")
			st, err := os.Stat(envPath)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("switchboard.env mode = %v, want 0600", st.Mode().Perm())
			}
			env := readEnvFile(t, envPath)
			for _, n := range append([]string{"SWITCHBOARD_TOKEN", "SWITCHBOARD_ADMIN_TOKEN"}, tt.wantEnv...) {
				if env[n] == "" {
					t.Errorf("switchboard.env has no %s", n)
				}
			}
			if want := "/webhooks/intellixent?token=" + env["SWITCHBOARD_TOKEN"]; !strings.Contains(stdout, want) {
				t.Errorf("init output %q does not give the webhook URL with the token", stdout)
			}
			if !strings.Contains(stdout, "switchboard serve --config "+out) {
				t.Errorf("init output %q does not name the next command", stdout)
			}
			yml, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantInYAML {
				if !strings.Contains(string(yml), w) {
					t.Errorf("config lacks %q", w)
				}
			}
			for _, s := range tt.neverInYAML {
				if strings.Contains(string(yml), s) || strings.Contains(stdout, s) {
					t.Errorf("secret %q written in the config or printed", s)
				}
			}
			// check loads switchboard.env from the config's folder by itself.
			code, stdout, stderr = runCLI(t, "", "check", "--config", out)
			if code != 0 || !strings.Contains(stdout, tt.wantSinks) {
				t.Errorf("check exit = %d, want 0 with %s\n%s%s", code, tt.wantSinks, stdout, stderr)
			}
		})
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	isolateEnv(t, initEnvNames...)
	tests := []struct {
		name     string
		existing string // file present before init
		force    bool
		wantCode int
	}{
		{"config exists", "switchboard.yaml", false, 1},
		{"env file exists", "switchboard.env", false, 1},
		{"config exists, --force", "switchboard.yaml", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			existing := writeFileIn(t, dir, tt.existing, "mine\n")
			args := []string{"init", "--out", filepath.Join(dir, "switchboard.yaml")}
			if tt.force {
				args = append(args, "--force")
			}
			code, _, stderr := runCLI(t, "", args...)
			if code != tt.wantCode {
				t.Fatalf("exit = %d, want %d: %s", code, tt.wantCode, stderr)
			}
			data, _ := os.ReadFile(existing)
			if kept := string(data) == "mine\n"; kept == tt.force {
				t.Errorf("%s kept = %v with force = %v", tt.existing, kept, tt.force)
			}
			if !tt.force {
				if !strings.Contains(stderr, "not overwritten (use --force") {
					t.Errorf("stderr = %q, want it to say why", stderr)
				}
				if _, err := os.Stat(filepath.Join(dir, "switchboard.env")); tt.existing == "switchboard.yaml" && err == nil {
					t.Error("init wrote switchboard.env although it refused the config")
				}
			}
		})
	}
}

func TestInitUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"smtp without a recipient", []string{"--smtp-url", "smtp://u@h:587"}, "--email-to"},
		{"smtp URL scheme", []string{"--smtp-url", "imap://h", "--email-to", "a@b.c"}, "scheme"},
		{"slack URL", []string{"--slack-webhook", "hooks.slack.com/x"}, "--slack-webhook must be"},
		{"no hot value", []string{"--hot", " , "}, "--hot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "switchboard.yaml")
			code, _, stderr := runCLI(t, "", append([]string{"init", "--out", out}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit = %d, stderr = %q; want 2 mentioning %q", code, stderr, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a config was written despite the usage error")
			}
		})
	}
}

func TestEnvFile(t *testing.T) {
	cfg := "sinks: {ops: {type: log}}\nrules: [{name: r, when: \"true\", actions: [{sink: ops, text: \"${GREETING}\"}]}]\n"
	tests := []struct {
		name     string
		envFile  string // switchboard.env beside the config ("" = none)
		other    string // content of a file passed with --env-file ("" = flag not given)
		preset   string // GREETING already set in the environment ("" = unset)
		wantCode int
		want     string
	}{
		{"beside the config", "GREETING=from-file\n", "", "", 0, "from-file"},
		{"quoted, with export and comments", "# c\nexport GREETING='from file'\n", "", "", 0, "from file"},
		{"environment wins", "GREETING=from-file\n", "", "from-env", 0, "from-env"},
		{"--env-file names another", "GREETING=beside\n", "GREETING=other\n", "", 0, "other"},
		{"no file: variable unset", "", "", "", 1, `"GREETING" is not set`},
		{"bad line names file and line", "GREETING=x\nnot a pair\n", "", "", 1, "switchboard.env:2: expected NAME=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t, "GREETING")
			if tt.preset != "" {
				t.Setenv("GREETING", tt.preset)
			}
			dir := t.TempDir()
			config := writeFileIn(t, dir, "switchboard.yaml", cfg)
			if tt.envFile != "" {
				writeFileIn(t, dir, "switchboard.env", tt.envFile)
			}
			args := []string{"test", "--json", "--config", config}
			if tt.other != "" {
				args = append(args, "--env-file", writeFileIn(t, t.TempDir(), "other.env", tt.other))
			}
			code, stdout, stderr := runCLI(t, `{"id":1,"status":"completed"}`, append(args, "-")...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit = %d, want %d with %q\nstdout: %s\nstderr: %s", code, tt.wantCode, tt.want, stdout, stderr)
			}
		})
	}
	t.Run("missing --env-file is an error", func(t *testing.T) {
		config := writeFileIn(t, t.TempDir(), "switchboard.yaml", "sinks: {ops: {type: log}}\n")
		code, _, stderr := runCLI(t, "", "check", "--config", config, "--env-file", filepath.Join(t.TempDir(), "nope.env"))
		if code != 1 || !strings.Contains(stderr, "read environment file") {
			t.Errorf("exit = %d, stderr = %q; want 1 naming the environment file", code, stderr)
		}
	})
}

func TestInitQuestions(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantSlack string
		wantSMTP  string
		wantTo    string
		wantHot   []string
		wantAlert string
	}{
		{"every answer skipped", "\n\n\n\n\n", "", "", "", []string{"high"}, ""},
		{"input ends early", "https://hooks.slack.com/services/T/B/X\n", "https://hooks.slack.com/services/T/B/X", "", "", []string{"high"}, ""},
		{"every answer given", "https://s\nhttps://crm\nsmtp://u@h:587\nto@example.com\nhigh,medium\nhttps://ops\n",
			"https://s", "smtp://u@h:587", "to@example.com", []string{"high", "medium"}, "https://ops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := initAnswers{HotValues: []string{"high"}}
			var out strings.Builder
			smtp, err := ask(&a, bufio.NewReader(strings.NewReader(tt.input)), &out)
			if err != nil {
				t.Fatal(err)
			}
			if a.SlackWebhook != tt.wantSlack || smtp != tt.wantSMTP || a.EmailTo != tt.wantTo ||
				strings.Join(a.HotValues, ",") != strings.Join(tt.wantHot, ",") || a.AlertsSlackWebhook != tt.wantAlert {
				t.Errorf("answers = %+v smtp %q", a, smtp)
			}
			if !strings.Contains(out.String(), "Slack incoming webhook URL for hot leads: ") {
				t.Errorf("prompts = %q", out.String())
			}
		})
	}
}
