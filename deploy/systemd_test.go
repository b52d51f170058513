package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unitFile = "systemd/switchboard.service"

// unitSettings returns the unit's Key=value settings (the last one of a key wins, as for most keys).
func unitSettings(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[k] = v
	}
	return out
}

func TestSystemdUnitHardening(t *testing.T) {
	s := unitSettings(t)
	tests := []struct{ key, want string }{
		{"DynamicUser", "yes"},
		{"StateDirectory", "switchboard"},
		{"ProtectSystem", "strict"},
		{"NoNewPrivileges", "yes"},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"LoadCredential", "switchboard.env:/etc/switchboard/switchboard.env"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if s[tt.key] != tt.want {
				t.Errorf("%s=%q, want %q", tt.key, s[tt.key], tt.want)
			}
		})
	}
	if !strings.Contains(s["ExecStart"], "serve --config /etc/switchboard/switchboard.yaml") {
		t.Errorf("ExecStart=%q, want serve with an absolute --config", s["ExecStart"])
	}
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "#AmbientCapabilities=CAP_NET_BIND_SERVICE") {
		t.Error("the unit no longer documents AmbientCapabilities=CAP_NET_BIND_SERVICE for ports below 1024")
	}
}

// TestSystemdAnalyzeVerify runs `systemd-analyze verify` on the unit, with its binary path pointed at
// an executable that exists here (verify checks that ExecStart names one).
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit is not verified here")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "switchboard.service")
	content := strings.ReplaceAll(string(data), "/usr/local/bin/switchboard", exe)
	if err := os.WriteFile(unit, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", unit).CombinedOutput()
	// Without a running systemd, verify may complain about the host, never about this unit's lines.
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(line, "switchboard.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	if err != nil && strings.Contains(string(out), "switchboard.service") {
		t.Errorf("systemd-analyze verify failed: %v\n%s", err, out)
	}
	t.Logf("systemd-analyze verify output:\n%s", out)
}
