// Command sbload load-tests Switchboard end to end, using only the standard library.
//
//	sbload post -url http://127.0.0.1:8080/webhooks/intellixent [-token T] [-c 32] [-n 10000 | -d 30s]
//	            [-rate 0 | N/s] [-start-id N] [-seed 1] [-acked FILE] [-relay-pid PID] [-json]
//	sbload compare -relay URL -bare URL [-relay-pid PID] [the load flags of post]
//	sbload sink -listen 127.0.0.1:9000 [-status 200] [-fail-for 30s -fail-status 503] [-retry-after 0]
//
// post sends realistic Intellixent post-call webhooks (internal/payloadgen: the published shape, 0.5-20 KiB
// bodies, a status and lead-quality mix as seen in production, unique ids) from -c workers, bounded by -n
// requests or -d duration, optionally paced to -rate requests per second, and reports requests, req/s, status
// counts and ack latency percentiles. With -acked it writes every id answered with a 2xx, so a test can check
// none was lost; with -relay-pid it reports the CPU time that process used per acknowledged webhook
// (/proc/PID/stat, 10 ms resolution). It refuses a non-loopback host unless -allow-remote is given. The token
// may also come from $SBLOAD_TOKEN; it is never printed.
//
// compare runs the same load twice, back to back: against the bare receiving server (-bare, an sbload sink:
// the ceiling of this machine and load), then against the relay (-relay), and prints both reports and a row
// each with acks/s, the relay's share of the bare rate, ack p50/p99 and the relay's CPU per acked webhook.
//
// sink is a delivery target: it answers every POST, on any path, 200 "ok" as Slack does (or -status), fails
// with -fail-status for -fail-for after it starts, counts deliveries and duplicates by Idempotency-Key, serves
// the counts as JSON on GET /stats (with the keys when ?keys=1) and prints a summary every few seconds and on
// SIGINT.
//
// Exit status: 0 when every post was acknowledged (or the sink stopped cleanly), 1 otherwise, 2 on a usage
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  sbload post [-url URL] [-token T] [-c 32] [-n 10000 | -d 30s] [-rate N/s] [-start-id N] [-acked FILE]
              [-relay-pid PID] [-json]
  sbload compare [-relay URL] [-bare URL] [-relay-pid PID] [-c 32] [-n 10000 | -d 30s] [the other flags of post]
  sbload sink [-listen 127.0.0.1:9000] [-status 200] [-fail-for 30s -fail-status 503] [-retry-after 0]
run "sbload post -h", "sbload compare -h" or "sbload sink -h" for every flag
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return 2
	}
	switch args[0] {
	case "post":
		o, err := parsePost(args[1:], stderr)
		if err != nil {
			return usageError(stderr, err)
		}
		r, err := runPost(ctx, o)
		if r != nil {
			if perr := r.print(stdout, o.json); perr != nil && err == nil {
				err = fmt.Errorf("print report: %w", perr)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "sbload post: %v\n", err)
			return 1
		}
		if !r.ok() {
			fmt.Fprintf(stderr, "sbload post: %d of %d requests were not acknowledged\n", r.Requests-r.Acked, r.Requests)
			return 1
		}
		return 0
	case "compare":
		o, err := parseCompare(args[1:], stderr)
		if err != nil {
			return usageError(stderr, err)
		}
		c, err := runCompare(ctx, o)
		if perr := c.print(stdout, o.load.json); perr != nil && err == nil {
			err = fmt.Errorf("print report: %w", perr)
		}
		if err != nil {
			fmt.Fprintf(stderr, "sbload compare: %v\n", err)
			return 1
		}
		if !c.ok() {
			fmt.Fprintf(stderr, "sbload compare: not every request was acknowledged (bare: %d of %d, relay: %d of %d)\n",
				c.Bare.Acked, c.Bare.Requests, c.Relay.Acked, c.Relay.Requests)
			return 1
		}
		return 0
	case "sink":
		o, err := parseSink(args[1:], stderr)
		if err != nil {
			return usageError(stderr, err)
		}
		if err := runSink(ctx, o, stdout); err != nil {
			fmt.Fprintf(stderr, "sbload sink: %v\n", err)
			return 1
		}
		return 0
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sbload: unknown command %q\n%s", args[0], usage)
		return 2
	}
}

// flagError is a parse error the flag package has already printed with the usage.
type flagError struct{ error }

// Unwrap returns the flag package's error.
func (e flagError) Unwrap() error { return e.error }

// usageError reports a flag problem and returns the exit status; -h is not a problem.
func usageError(stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if !errors.As(err, new(flagError)) {
		fmt.Fprintf(stderr, "sbload: %v\n", err)
	}
	return 2
}
