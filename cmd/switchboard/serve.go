package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboard-relay/switchboard/relay"
)

// serveCmd runs the relay until SIGINT or SIGTERM; SIGHUP re-reads the environment file and reloads
// the config.
func serveCmd(args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cf := addConfigFlags(fs)
	logFormat := fs.String("log-format", "", "log format, text or json (default: the config's log.format)")
	logLevel := fs.String("log-level", "", "log level, debug, info, warn or error (default: the config's log.level)")
	if pos, err := parseInterleaved(fs, args); err != nil || len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	configPath, err := cf.resolve()
	if err != nil {
		return err
	}
	opts := relay.Options{ConfigPath: configPath}
	opts.Version, _ = versionInfo()
	opts.LogFormat, opts.LogLevel = *logFormat, *logLevel

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{})
	go func() {
		for range hup {
			if err := cf.reload(); err != nil {
				fmt.Fprintf(stderr, "switchboard serve: %v (the variables it set stay as they were)\n", err)
			}
			select {
			case reload <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	opts.Reload = reload
	return relay.Run(ctx, opts)
}
