package relay

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

// TestRunTwiceWithOneRegistry runs a relay, stops it, and runs it again with the same Options.Registry,
// as a program or test restarting the relay in process would: the second Run must not panic.
func TestRunTwiceWithOneRegistry(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchboard.yaml")
	writeConfig(t, cfg, relayConfig, "http://127.0.0.1:1", filepath.Join(dir, "sb.db"))
	reg := prometheus.NewRegistry()
	run := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("Run panicked: %v", p)
			}
		}()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		return Run(ctx, Options{ConfigPath: cfg, Logger: newTestLogger(&sinktest.Buffer{}), Listener: ln, Registry: reg,
			Ready: func(net.Addr) { cancel() }})
	}
	for i := 1; i <= 2; i++ {
		if err := run(); err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
}
