package relay

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

// busyTest is a config test: a busy call matches exactly the rules named.
func busyTest(matched string) string {
	return `tests:
  - name: a busy call
    call: { id: 1, status: busy }
    expect: { matched: ` + matched + ` }
`
}

// TestServeRefusesFailingTests checks that serve does not start when a config test fails, and says
// which test and where.
func TestServeRefusesFailingTests(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchboard.yaml")
	writeConfig(t, cfg, relayConfig+busyTest("[hot-leads]"), "http://127.0.0.1:1", filepath.Join(dir, "sb.db"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Run(context.Background(), Options{ConfigPath: cfg, Listener: ln, Logger: newTestLogger(&sinktest.Buffer{})})
	if err == nil {
		t.Fatal("Run started with a failing config test")
	}
	for _, want := range []string{cfg + ":", `test "a busy call" failed`, "[failed-calls]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Run error = %v, want it to contain %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sb.db")); err == nil {
		t.Error("the database was created although the config was refused")
	}
}

// TestReloadRunsTestsAndIncludes checks that a reload runs the config tests (a failing one keeps the
// old config) and re-reads and re-globs included files.
func TestReloadRunsTestsAndIncludes(t *testing.T) {
	crm := newFakeCRM(t)
	r := startRelay(t, relayConfig+busyTest("[failed-calls]"), crm.srv.URL)
	rulesDir := filepath.Join(r.dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o700); err != nil {
		t.Fatal(err)
	}
	withInclude := "include: [rules/*.yaml]\n" + relayConfig
	steps := []struct {
		name        string
		config      string
		included    map[string]string // files to write under rules/
		wantStatus  int
		wantProblem string
		wantMatched string
	}{
		{name: "a rule that breaks a test is rejected", config: relayConfig + busyRule("busy-audit") + busyTest("[failed-calls]"),
			wantStatus: http.StatusBadRequest, wantProblem: "switchboard.yaml:45: tests[0].expect.matched: test ", wantMatched: "[failed-calls]"},
		{name: "the rule with its test updated is taken", config: relayConfig + busyRule("busy-audit") + busyTest("[failed-calls, busy-audit]"),
			wantStatus: http.StatusOK, wantMatched: "[failed-calls busy-audit]"},
		{name: "an included file adds a rule and its test", config: withInclude,
			included:   map[string]string{"busy.yaml": "rules:" + busyRule("busy-included") + busyTest("[failed-calls, busy-included]")},
			wantStatus: http.StatusOK, wantMatched: "[failed-calls busy-included]"},
		{name: "a second included file is globbed on reload", config: withInclude,
			included:   map[string]string{"zz.yaml": "rules:" + busyRule("busy-zz")},
			wantStatus: http.StatusBadRequest, wantProblem: "busy.yaml:", wantMatched: "[failed-calls busy-included]"},
		{name: "a mistake in an included file names that file", config: withInclude,
			included:   map[string]string{"zz.yaml": "rules:\n  - name: zz\n    when: statuz == 1\n    actions: [{sink: sales-log}]\n"},
			wantStatus: http.StatusBadRequest, wantProblem: "zz.yaml:3: rules[0].when:", wantMatched: "[failed-calls busy-included]"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for name, content := range st.included {
				if err := os.WriteFile(filepath.Join(rulesDir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			writeConfig(t, r.cfg, st.config, crm.srv.URL, r.db)
			status, raw := r.request(http.MethodPost, "/-/reload", adminToken, "")
			if status != st.wantStatus || !strings.Contains(string(raw), st.wantProblem) {
				t.Errorf("reload: %d %s, want %d naming %q", status, raw, st.wantStatus, st.wantProblem)
			}
			if got := fmt.Sprint(postBusy(t, r)); got != st.wantMatched {
				t.Errorf("busy call matched %s, want %s", got, st.wantMatched)
			}
		})
	}
}
