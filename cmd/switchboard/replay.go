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
	"github.com/switchboard-relay/switchboard/store"
)

// replayCmd puts dead (or chosen) deliveries back in the queue. A running relay on the same storage
// picks them up within its poll interval (2s); on PostgreSQL every replica is woken at once. It exits
// 0 when the requeue is done (even of no delivery), 1 when it cannot be (invalid config, missing
// database, a call or delivery id that does not exist), 2 on a usage error.
func replayCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	cf := addConfigFlags(fs)
	dead := fs.Bool("dead", false, "requeue every dead delivery")
	callID := fs.Int64("call", 0, "requeue the dead deliveries of this call id")
	deliveryID := fs.Int64("delivery", 0, "requeue this delivery id (dead, or delivered to send it again)")
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
	configPath, err := cf.resolve()
	if err != nil {
		return err
	}
	loaded, err := relay.Load(configPath, slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("load config:\n%w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := relay.OpenExistingStore(ctx, loaded.Runtime.Config.Storage, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Requeue(ctx, store.Selector{AllDead: *dead, CallID: *callID, DeliveryID: *deliveryID}, time.Now())
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
	fmt.Fprintf(stdout, "requeued %d deliveries\n", n)
	return nil
}
