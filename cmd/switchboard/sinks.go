package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-relay/switchboard/dispatch"
	"github.com/switchboard-relay/switchboard/relay"
	"github.com/switchboard-relay/switchboard/router"
	"github.com/switchboard-relay/switchboard/store"
)

// sinksCmd lists the configured sinks with their state and queue, as GET /api/sinks does. It exits 0
// when it could read them, 1 when not (invalid config, missing database), 2 on a usage error.
func sinksCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sinks", stderr)
	cf := addConfigFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON, as GET /api/sinks answers")
	if pos, err := parseInterleaved(fs, args); err != nil || len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	loaded, err := cf.load()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := loaded.Runtime.Config
	st, err := relay.OpenExistingStore(ctx, cfg.Storage, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	var names, types []string
	for _, s := range cfg.Sinks {
		names, types = append(names, s.Name), append(types, s.Type)
	}
	views, err := router.SinkViews(ctx, st, names, types, time.Now())
	if err != nil {
		return fmt.Errorf("read sinks: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"sinks": views})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tTYPE\tSTATE\tPENDING\tIN FLIGHT\tDEAD\tOLDEST PENDING\tLAST ERROR")
	for _, v := range views {
		oldest := "-"
		if v.Pending+v.InFlight > 0 {
			oldest = (time.Duration(v.OldestPendingSeconds) * time.Second).String()
		}
		lastErr := "-"
		if v.LastError != "" {
			lastErr = oneLine(v.LastError, 80)
			if v.LastErrorAt != nil {
				lastErr += " (" + v.LastErrorAt.Format(time.RFC3339) + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", v.Name, v.Type, v.State, v.Pending, v.InFlight, v.Dead, oldest, lastErr)
	}
	return tw.Flush()
}

// oneLine shortens s to at most n runes on one line.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// sinkStateCmd pauses or resumes one configured sink in the store; running relays follow within
// their poll interval (a pause stops new attempts at once). It exits 0 when the sink is in the asked
// state (also when it already was), 1 when it cannot be (invalid config, missing database, a sink that
// is not configured), 2 on a usage error.
func sinkStateCmd(name string, to store.SinkState, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(name, stderr)
	cf := addConfigFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: switchboard %s [--config FILE] SINK\n", name)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 1 || pos[0] == "" {
		fs.Usage()
		return errUsage
	}
	sink := pos[0]
	loaded, err := cf.load()
	if err != nil {
		return err
	}
	cfg := loaded.Runtime.Config
	if cfg.Sink(sink) == nil {
		var names []string
		for _, s := range cfg.Sinks {
			names = append(names, s.Name)
		}
		return fmt.Errorf("sink %q is not configured (sinks: %s)", sink, strings.Join(names, ", "))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := relay.OpenExistingStore(ctx, cfg.Storage, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	ch, err := dispatch.SetSinkState(ctx, st, sink, to, "cli", time.Now(), nil)
	if err != nil {
		return err
	}
	switch {
	case !ch.Changed():
		fmt.Fprintf(stdout, "sink %s is already %s\n", sink, ch.To)
	case to == store.SinkPaused:
		fmt.Fprintf(stdout, "sink %s paused (was %s): its deliveries wait until `switchboard resume %s`\n", sink, ch.From, sink)
	default:
		fmt.Fprintf(stdout, "sink %s resumed (was %s): its waiting deliveries are sent now, oldest first\n", sink, ch.From)
	}
	return nil
}
