package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Deadlines of the process helpers. They bound waits on signals; none is a speed requirement.
const (
	readyDeadline = 30 * time.Second
	exitDeadline  = 30 * time.Second
	pollInterval  = 20 * time.Millisecond
)

// output is a process's stdout and stderr: safe for concurrent use, and it signals every write so a
// test can wait for a log line without sleeping.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

// Write appends p and wakes every waiter.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return n, err
}

// String returns everything written so far.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// count returns how many times substr was written so far, and a channel closed at the next write.
func (o *output) count(substr string) (int, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Count(o.buf.String(), substr), o.changed
}

// relay is one running `switchboard serve` process.
type relay struct {
	t      *testing.T
	name   string
	config string
	// base is the relay's URL, "http://127.0.0.1:<port>".
	base string
	cmd  *exec.Cmd
	out  *output
	done chan struct{} // closed when the process has exited; err then holds Wait's result
	err  error
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("release port %s: %v", addr, err)
	}
	return addr
}

// startRelay starts `switchboard serve --config configPath` listening on addr and waits until it is
// ready. The process is killed at cleanup if still running, and its output is logged when the test
// failed.
func startRelay(t *testing.T, name, configPath, addr string) *relay {
	t.Helper()
	return startBinary(t, binary, name, configPath, addr)
}

// startBinary is startRelay of the executable bin, with env added to its environment.
func startBinary(t *testing.T, bin, name, configPath, addr string, env ...string) *relay {
	t.Helper()
	r := &relay{t: t, name: name, config: configPath, base: "http://" + addr, out: newOutput(), done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve", "--config", configPath)
	r.cmd.Env = append(append(os.Environ(), "SWITCHBOARD_CONFIG="), env...)
	r.launch()
	r.waitReady()
	return r
}

// launch starts r.cmd with its output in r.out, and records its exit in r.err and r.done. The
// process is killed at cleanup if still running, and its output is logged when the test failed.
func (r *relay) launch() {
	r.t.Helper()
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start %s: %v", r.name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	r.t.Cleanup(func() {
		if !r.exited() {
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		if r.t.Failed() {
			r.logOutput()
		}
	})
}

func (r *relay) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// outputTail is how many of a process's last output lines a failed test logs; set
// SWITCHBOARD_E2E_LOGDIR to keep every line in a file instead.
const outputTail = 300

// logOutput logs the end of the process's output, and writes all of it to $SWITCHBOARD_E2E_LOGDIR
// when that is set.
func (r *relay) logOutput() {
	out := r.out.String()
	if dir := os.Getenv("SWITCHBOARD_E2E_LOGDIR"); dir != "" {
		name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(r.t.Name())+"."+r.name+".log")
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			err = os.WriteFile(name, []byte(out), 0o600)
		}
		if err != nil {
			r.t.Logf("write the output of %s to %s: %v", r.name, name, err)
		} else {
			r.t.Logf("output of %s written to %s", r.name, name)
		}
	}
	lines := strings.SplitAfter(out, "\n")
	if n := len(lines) - outputTail; n > 0 {
		lines = lines[n:]
		r.t.Logf("--- last %d lines of output of %s (pid %d; %d earlier lines omitted, set SWITCHBOARD_E2E_LOGDIR to keep them) ---\n%s",
			outputTail, r.name, r.cmd.Process.Pid, n, strings.Join(lines, ""))
		return
	}
	r.t.Logf("--- output of %s (pid %d) ---\n%s", r.name, r.cmd.Process.Pid, out)
}

// waitReady polls GET /readyz until it answers 200, the process exits, or readyDeadline passes.
func (r *relay) waitReady() {
	r.t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyDeadline)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		resp, err := client.Get(r.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-r.done:
			r.t.Fatalf("%s exited before it was ready: %v\n%s", r.name, r.err, r.out.String())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: GET /readyz did not answer 200 within %s (last error: %v)", r.name, readyDeadline, err)
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (r *relay) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(exitDeadline):
		r.t.Fatalf("%s did not exit within %s", r.name, exitDeadline)
	}
	var ee *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &ee):
		return ee.ExitCode()
	default:
		r.t.Fatalf("%s: wait: %v", r.name, r.err)
		return -1
	}
}

// stop sends SIGTERM and asserts a clean exit (status 0).
func (r *relay) stop() {
	r.t.Helper()
	r.terminate()
	if got := r.wait(); got != 0 {
		r.t.Fatalf("%s after SIGTERM: exit status %d, want 0 (%v)", r.name, got, r.err)
	}
}

// terminate sends SIGTERM without waiting.
func (r *relay) terminate() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatalf("signal SIGTERM to %s: %v", r.name, err)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *relay) kill() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatalf("signal SIGKILL to %s: %v", r.name, err)
	}
	<-r.done
}

// hup sends SIGHUP (reload the config).
func (r *relay) hup() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		r.t.Fatalf("signal SIGHUP to %s: %v", r.name, err)
	}
}

// waitLog waits until substr has been logged at least n times in total.
func (r *relay) waitLog(substr string, n int) {
	r.t.Helper()
	timer := time.NewTimer(readyDeadline)
	defer timer.Stop()
	for {
		got, changed := r.out.count(substr)
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-r.done:
			r.t.Fatalf("%s exited while waiting for log line %q (seen %d times, want %d)", r.name, substr, got, n)
		case <-timer.C:
			r.t.Fatalf("%s: log line %q seen %d times within %s, want %d", r.name, substr, got, readyDeadline, n)
		}
	}
}

// assertNoSecrets fails the test if the output so far contains any of secrets.
func (r *relay) assertNoSecrets(secrets ...string) {
	r.t.Helper()
	out := r.out.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			r.t.Errorf("%s logged a secret (%d bytes, starting %q): secrets must never reach the log", r.name, len(s), s[:min(4, len(s))])
		}
	}
}

// runCommand runs the binary with args to completion and returns its exit code, stdout and stderr.
func runCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "SWITCHBOARD_CONFIG=")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run switchboard %s: %v", strings.Join(args, " "), err)
	}
	return code, o.String(), e.String()
}

// mustWrite writes content to path, failing the test on error.
func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// describe is a short label for a relay in messages.
func (r *relay) String() string { return fmt.Sprintf("%s (%s)", r.name, r.base) }
