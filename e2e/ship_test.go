package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/internal/testcert"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key into dir (cert.pem, key.pem),
// and returns a pool that trusts it.
func selfSigned(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(testcert.Write(t, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), 1))
	return pool
}

// runIn runs the binary at bin in dir with env (and nothing of the test's environment that
// switchboard reads), to completion.
func runIn(t *testing.T, dir, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("run %s: %v", strings.Join(args, " "), err)
	}
	return 0, string(out)
}

// TestFromDownloadToHTTPS is the five-minute path on a clean machine: the binary alone in an empty
// folder, `switchboard init` with no destination (all log sinks, no terminal), a self-signed
// certificate added to server.tls, `switchboard serve`, `switchboard healthcheck` over https, and the
// example call POSTed over HTTPS with the token init generated: 202, and the log sinks print the
// messages.
func TestFromDownloadToHTTPS(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "switchboard")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir}

	code, out := runIn(t, dir, bin, env, "init")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s", code, out)
	}
	envFile, err := os.ReadFile(filepath.Join(dir, "switchboard.env"))
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, line := range strings.Split(string(envFile), "\n") {
		if v, ok := strings.CutPrefix(line, "SWITCHBOARD_TOKEN="); ok {
			token = v
		}
	}
	if token == "" || !strings.Contains(out, "?token="+token) {
		t.Fatalf("init printed no webhook URL with the token of switchboard.env:\n%s", out)
	}

	pool := selfSigned(t, dir)
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "switchboard.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(cfg), "server:\n  listen: \":8080\"\n",
		"server:\n  listen: \""+addr+"\"\n  tls: {cert_file: cert.pem, key_file: key.pem}\n", 1)
	if edited == string(cfg) {
		t.Fatalf("the config init wrote no longer starts its server block with listen \":8080\": update this test\n%s", cfg)
	}
	mustWrite(t, cfgPath, edited)

	r := &relay{t: t, name: "shipped", config: cfgPath, base: "https://" + addr, out: newOutput(), done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve")
	r.cmd.Dir, r.cmd.Env = dir, env
	r.launch()
	r.waitLog("switchboard started", 1)
	if code, out := runIn(t, dir, bin, env, "healthcheck"); code != 0 || !strings.Contains(out, "https://"+addr+"/readyz: ready") {
		t.Fatalf("healthcheck: exit %d\n%s", code, out)
	}

	payload, err := os.ReadFile(filepath.Join("..", "examples", "hot-lead.json"))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post(r.base+"/webhooks/intellixent?token="+token, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST over HTTPS: %d %s, want 202", resp.StatusCode, body)
	}
	resp, err = client.Post(r.base+"/webhooks/intellixent", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without the token: %d, want 401", resp.StatusCode)
	}
	r.waitLog("Listen to the recording", 1) // the Slack blocks, printed by the log sink
	r.waitLog("msg=delivered", 3)           // sales-slack, crm, sales-email
	r.assertNoSecrets(token)
	r.stop()
}
