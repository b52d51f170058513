package main

import (
	"context"
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
// picks them up within its poll interval (2s); on PostgreSQL every replica is woken at once.
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
	st, err := relay.OpenStore(ctx, loaded.Runtime.Config.Storage, slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	defer st.Close()
	n, err := st.Requeue(ctx, store.Selector{AllDead: *dead, CallID: *callID, DeliveryID: *deliveryID}, time.Now())
	if err != nil {
		return fmt.Errorf("requeue: %w", err)
	}
	fmt.Fprintf(stdout, "requeued %d deliveries\n", n)
	return nil
}
