package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
)

// compareOptions are the flags of `sbload compare`: one load, run against the bare receiving server and
// then against the relay.
type compareOptions struct {
	load  postOptions // every flag but the URLs; load.url is unused
	relay string
	bare  string
}

// parseCompare reads the flags of `sbload compare`; errors say which flag to fix.
func parseCompare(args []string, stderr io.Writer) (compareOptions, error) {
	var o compareOptions
	fs := flag.NewFlagSet("sbload compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.relay, "relay", "http://127.0.0.1:8080/webhooks/intellixent", "the relay's webhook `URL`")
	fs.StringVar(&o.bare, "bare", "http://127.0.0.1:9000/", "`URL` of the receiving server alone (sbload sink), the ceiling")
	addLoadFlags(fs, &o.load)
	if err := parseLoad(fs, args, &o.load); err != nil {
		return o, err
	}
	if err := checkTarget(o.relay, o.load.allowRemote); err != nil {
		return o, fmt.Errorf("-relay: %w", err)
	}
	if err := checkTarget(o.bare, o.load.allowRemote); err != nil {
		return o, fmt.Errorf("-bare: %w", err)
	}
	return o, nil
}

// comparison is the result of a compare run. Ratio is the relay's acks per second over the bare server's.
type comparison struct {
	Bare  *report `json:"bare"`
	Relay *report `json:"relay"`
	Ratio float64 `json:"ratio"`
}

// ok reports whether both runs had every request acknowledged.
func (c *comparison) ok() bool { return c.Bare != nil && c.Bare.ok() && c.Relay != nil && c.Relay.ok() }

// runCompare runs the load against the bare server, then the same load (the same ids and bodies) against
// the relay, measuring the relay's CPU time when a pid is given. It stops after the first run when ctx is
// cancelled.
func runCompare(ctx context.Context, o compareOptions) (*comparison, error) {
	c := &comparison{}
	bare := o.load
	bare.url, bare.relayPID = o.bare, 0
	r, err := runPost(ctx, bare)
	c.Bare = r
	if err != nil {
		return c, fmt.Errorf("bare server: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return c, err
	}
	relay := o.load
	relay.url = o.relay
	r, err = runPost(ctx, relay)
	c.Relay = r
	if err != nil {
		return c, fmt.Errorf("relay: %w", err)
	}
	if c.Bare.AcksPerSec > 0 {
		c.Ratio = c.Relay.AcksPerSec / c.Bare.AcksPerSec
	}
	return c, nil
}

// print writes both reports and a table of the two rows, or one JSON object when asJSON is set.
func (c *comparison) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(c)
	}
	var b strings.Builder
	for _, run := range []struct {
		name string
		r    *report
	}{{"bare server (the ceiling)", c.Bare}, {"relay", c.Relay}} {
		if run.r == nil {
			continue
		}
		fmt.Fprintf(&b, "== %s\n", run.name)
		if err := run.r.print(&b, false); err != nil {
			return err
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%-6s %10s %9s %10s %10s %16s\n", "", "acks/s", "of bare", "ack p50", "ack p99", "relay CPU/ack")
	if c.Bare != nil {
		fmt.Fprintf(&b, "%-6s %10.1f %9.2f %8.2fms %8.2fms %16s\n", "bare", c.Bare.AcksPerSec, 1.0,
			c.Bare.Latency.P50, c.Bare.Latency.P99, "-")
	}
	if c.Relay != nil {
		cpu := "-"
		if c.Relay.RelayPID > 0 {
			cpu = fmt.Sprintf("%.3fms", c.Relay.RelayCPUPerAck)
		}
		fmt.Fprintf(&b, "%-6s %10.1f %9.2f %8.2fms %8.2fms %16s\n", "relay", c.Relay.AcksPerSec, c.Ratio,
			c.Relay.Latency.P50, c.Relay.Latency.P99, cpu)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
