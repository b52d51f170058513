package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Setenv("SBLOAD_TOKEN", "env-secret")
	good := httptest.NewServer(&fakeRelay{token: "env-secret", seen: map[int64]bool{}})
	defer good.Close()
	failing := httptest.NewServer(&fakeRelay{token: "env-secret", failEvery: 1, seen: map[int64]bool{}})
	defer failing.Close()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "no command", wantCode: 2, wantStderr: "usage:"},
		{name: "unknown command", args: []string{"push"}, wantCode: 2, wantStderr: `unknown command "push"`},
		{name: "help", args: []string{"help"}, wantCode: 0, wantStdout: "sbload post"},
		{name: "post -h lists flags without the token", args: []string{"post", "-h"}, wantCode: 0,
			wantStderr: "-acked"},
		{name: "post bad flag", args: []string{"post", "-nope"}, wantCode: 2, wantStderr: "-nope"},
		{name: "post remote", args: []string{"post", "-url", "http://example.com/"}, wantCode: 2,
			wantStderr: "-allow-remote"},
		{name: "post all acknowledged", args: []string{"post", "-url", good.URL, "-n", "20", "-c", "4"},
			wantCode: 0, wantStdout: "status:      202=20"},
		{name: "post as JSON", args: []string{"post", "-url", good.URL, "-n", "3", "-json"},
			wantCode: 0, wantStdout: `"status":{"202":3}`},
		{name: "post refused", args: []string{"post", "-url", failing.URL, "-n", "3"},
			wantCode: 1, wantStderr: "3 of 3 requests were not acknowledged"},
		{name: "compare", args: []string{"compare", "-bare", good.URL, "-relay", good.URL, "-n", "10", "-c", "2",
			"-relay-pid", strconv.Itoa(os.Getpid())}, wantCode: 0, wantStdout: "relay CPU:"},
		{name: "compare refused", args: []string{"compare", "-bare", good.URL, "-relay", failing.URL, "-n", "3"},
			wantCode: 1, wantStderr: "relay: 0 of 3"},
		{name: "compare remote", args: []string{"compare", "-bare", "http://example.com/"}, wantCode: 2,
			wantStderr: "-bare: host"},
		{name: "post relay pid that does not exist", args: []string{"post", "-url", good.URL, "-relay-pid", "1073741824"},
			wantCode: 2, wantStderr: "-relay-pid: read the CPU time of process 1073741824"},
		{name: "sink bad status", args: []string{"sink", "-status", "99"}, wantCode: 2,
			wantStderr: "-status: want an HTTP status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit: got %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if all := stdout.String() + stderr.String(); strings.Contains(all, "env-secret") {
				t.Errorf("the output shows the token:\n%s", all)
			}
		})
	}
}

// TestRunSink starts the sink on a free port, delivers to it, interrupts it and reads its final summary.
func TestRunSink(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"sink", "-listen", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	out := bufio.NewReader(pr)
	first, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("read first line: %v", err)
	}
	addr := regexp.MustCompile(`http://[0-9.:]+`).FindString(first)
	if addr == "" {
		t.Fatalf("got first line %q, want the listen address", first)
	}
	for _, key := range []string{"a", "b", "a"} {
		req, _ := http.NewRequest(http.MethodPost, addr+"/slack", strings.NewReader(`{"text":"x"}`))
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cancel()
	rest, _ := io.ReadAll(out)
	if code := <-done; code != 0 {
		t.Errorf("exit: got %d, want 0", code)
	}
	want := "final: 3 deliveries (2 unique, 1 duplicates, 0 without key), 0 failed, 3 requests"
	if !strings.Contains(string(rest), want) {
		t.Errorf("got output %q, want it to contain %q", rest, want)
	}
}
