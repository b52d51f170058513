package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/switchboard-relay/switchboard/relay"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// replayCmd puts dead (or chosen) deliveries back in the queue. A running relay on the same storage
// picks them up within its poll interval (2s); on PostgreSQL every replica is woken at once. --dead
// takes filters (--sink, --rule, --reason, --since, --until: the last two on when the delivery died)
// and --dry-run, which lists what would be requeued and requeues nothing. It exits 0 when the
// requeue is done (even of no delivery), 1 when it cannot be (invalid config, missing database, a
// call or delivery id that does not exist), 2 on a usage error.
func replayCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	cf := addConfigFlags(fs)
	dead := fs.Bool("dead", false, "requeue every dead delivery")
	callID := fs.Int64("call", 0, "requeue the dead deliveries of this call id")
	deliveryID := fs.Int64("delivery", 0, "requeue this delivery id (dead, or delivered to send it again)")
	var spec store.DeadFilterSpec
	fs.StringVar(&spec.Sink, "sink", "", "with --dead: only deliveries to this sink")
	fs.StringVar(&spec.Rule, "rule", "", "with --dead: only deliveries of this rule")
	fs.StringVar(&spec.Reason, "reason", "", "with --dead: only deliveries that died of this reason (client_error, server_error, ...)")
	fs.StringVar(&spec.Since, "since", "", "with --dead: only deliveries that died since then: a duration ago (2h) or an RFC 3339 time")
	fs.StringVar(&spec.Until, "until", "", "with --dead: only deliveries that died until then: an RFC 3339 time or a duration ago")
	dryRun := fs.Bool("dry-run", false, "with --dead: list what would be requeued, requeue nothing")
	if pos, err := parseInterleaved(fs, args); err != nil || len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	chosen := 0
	for _, set := range []bool{*dead, *callID != 0, *deliveryID != 0} {
		if set {
			chosen++
		}
	}
	if chosen != 1 {
		fmt.Fprintln(stderr, "switchboard replay: choose exactly one of --dead, --call ID, --delivery ID")
		fs.Usage()
		return errUsage
	}
	if *callID < 0 || *deliveryID < 0 {
		fmt.Fprintln(stderr, "switchboard replay: --call and --delivery take a positive id")
		fs.Usage()
		return errUsage
	}
	filtered := spec != (store.DeadFilterSpec{})
	if (filtered || *dryRun) && !*dead {
		fmt.Fprintln(stderr, "switchboard replay: --sink, --rule, --reason, --since, --until and --dry-run go with --dead")
		fs.Usage()
		return errUsage
	}
	if spec.Reason != "" {
		if msg := sinks.CheckReason(spec.Reason); msg != "" {
			fmt.Fprintln(stderr, "switchboard replay: --reason: "+msg)
			fs.Usage()
			return errUsage
		}
	}
	now := time.Now()
	filter, err := spec.Parse(now)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard replay: --"+err.Error())
		fs.Usage()
		return errUsage
	}
	loaded, err := cf.load()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := relay.OpenExistingStore(ctx, loaded.Runtime.Config.Storage, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	if *dryRun {
		return listDead(ctx, st, filter, stdout)
	}
	sel := store.Selector{CallID: *callID, DeliveryID: *deliveryID}
	if *dead {
		sel.Dead = &filter
	}
	n, err := st.Requeue(ctx, sel, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("delivery %d does not exist", *deliveryID)
	case err != nil:
		return fmt.Errorf("requeue: %w", err)
	}
	if n == 0 && *callID != 0 {
		// Requeue counts the call's dead deliveries; an id that names no call is a mistake to report.
		if _, err := st.GetCall(ctx, *callID); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("call %d does not exist", *callID)
		} else if err != nil {
			return fmt.Errorf("read call %d: %w", *callID, err)
		}
	}
	if n == 0 && *dead {
		fmt.Fprintln(stdout, "requeued 0 deliveries (no dead delivery matches)")
		return nil
	}
	fmt.Fprintf(stdout, "requeued %d deliveries\n", n)
	return nil
}

// listDead prints the dead deliveries f matches, one a line, then how many would be requeued.
func listDead(ctx context.Context, st store.Store, f store.DeadFilter, stdout io.Writer) error {
	total := 0
	var after int64
	for {
		page, err := st.ListDeliveries(ctx, store.DeliveryFilter{Dead: &f, AfterID: after, Limit: 1000})
		if err != nil {
			return fmt.Errorf("list dead deliveries: %w", err)
		}
		for _, d := range page {
			fmt.Fprintf(stdout, "delivery %d\tcall %d\trule %s\tsink %s\tdied %s\t%s: %s\n", d.ID, d.CallID, d.Rule, d.Sink,
				d.UpdatedAt.UTC().Format(time.RFC3339), d.LastReason, relay.MaskPhones(oneLine(d.LastError, 200)))
		}
		total += len(page)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	if total == 0 {
		fmt.Fprintln(stdout, "would requeue 0 deliveries (no dead delivery matches)")
		return nil
	}
	fmt.Fprintf(stdout, "would requeue %d deliveries (dry run: nothing requeued)\n", total)
	return nil
}

// oneLine keeps an error on one line of the listing.
