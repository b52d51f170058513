package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

// addLoadFlags registers the flags that shape a load, which post and compare share.
func addLoadFlags(fs *flag.FlagSet, o *postOptions) {
	fs.StringVar(&o.token, "token", "", "bearer `token` (default $SBLOAD_TOKEN; never printed)")
	fs.IntVar(&o.concurrency, "c", 32, "concurrent requests")
	fs.IntVar(&o.count, "n", 0, "number of requests (default 10000 unless -d is set)")
	fs.DurationVar(&o.duration, "d", 0, "run for this `duration` (e.g. 30s) instead of a number of requests")
	fs.Var(&o.rate, "rate", "requests per second over all workers, `N` or N/s; 0 is unlimited")
	fs.Int64Var(&o.startID, "start-id", 0, "first call id (default: the current unix time in microseconds, so runs never collide)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the payload generator")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a URL whose host is not loopback")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.IntVar(&o.relayPID, "relay-pid", 0, "report the CPU time this `PID` (the relay) used per acknowledged webhook, from /proc/PID/stat")
}

// parseLoad parses args with fs, then checks and completes the load flags; errors say which flag to fix.
func parseLoad(fs *flag.FlagSet, args []string, o *postOptions) error {
	if err := fs.Parse(args); err != nil {
		return flagError{err}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: every option is a flag", fs.Arg(0))
	}
	if o.concurrency < 1 {
		return errors.New("-c: want at least 1 concurrent request")
	}
	if o.count < 0 || o.duration < 0 || o.timeout <= 0 {
		return errors.New("-n, -d and -timeout must be positive")
	}
	if o.token == "" {
		o.token = os.Getenv("SBLOAD_TOKEN") // not a flag default, so -h cannot print it
	}
	if o.count == 0 && o.duration == 0 {
		o.count = defaultCount
	}
	if o.startID < 0 {
		return errors.New("-start-id: call ids are positive")
	}
	if o.startID == 0 {
		o.startID = time.Now().UnixMicro()
	}
	if o.relayPID < 0 {
		return errors.New("-relay-pid: want a process id")
	}
	if o.relayPID > 0 {
		if _, err := processCPU(o.relayPID); err != nil {
			return fmt.Errorf("-relay-pid: %w", err)
		}
	}
	return nil
}
