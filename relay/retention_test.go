package relay

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/router"
	"github.com/switchboard-relay/switchboard/store"
)

func TestRetention(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		s      config.Storage
		want   store.Retention
		wantOK bool
	}{
		{name: "defaults", s: config.Storage{Retention: config.DefaultRetention, DeadLetterRetention: config.DefaultDeadLetterRetention},
			want: store.Retention{Finished: now.Add(-720 * time.Hour), Dead: now.Add(-2160 * time.Hour)}, wantOK: true},
		{name: "dead letters never go before the rest", s: config.Storage{Retention: 720 * time.Hour, DeadLetterRetention: time.Hour},
			want: store.Retention{Finished: now.Add(-720 * time.Hour), Dead: now.Add(-720 * time.Hour)}, wantOK: true},
		{name: "dead letters kept until replayed", s: config.Storage{Retention: 720 * time.Hour},
			want: store.Retention{Finished: now.Add(-720 * time.Hour)}, wantOK: true},
		{name: "retention 0 keeps everything", s: config.Storage{DeadLetterRetention: time.Hour}, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := retention(tt.s, now)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("retention(%+v) = %+v, %t; want %+v, %t", tt.s, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// purgeStore is a store whose Purge records its cutoffs and reports fixed counts.
type purgeStore struct {
	store.Store
	got []store.Retention
}

func (s *purgeStore) Purge(_ context.Context, r store.Retention) (store.Purged, error) {
	s.got = append(s.got, r)
	return store.Purged{Calls: 1, Deliveries: 2, Dead: 3}, nil
}

// TestPurgeLoopLogsEachKind runs one purge (the loop's first, at start) and checks that it logs how
// many calls, deliveries and dead deliveries it removed.
func TestPurgeLoopLogsEachKind(t *testing.T) {
	st := &purgeStore{}
	cfg := &config.Config{Storage: config.Storage{Retention: time.Hour, DeadLetterRetention: 2 * time.Hour}}
	rt := &router.Runtime{Config: cfg}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the loop purges once at start, then sees ctx done
	purgeLoop(ctx, st, func() *router.Runtime { return rt }, log)
	if len(st.got) != 1 || st.got[0].Dead.IsZero() || !st.got[0].Dead.Before(st.got[0].Finished) {
		t.Errorf("Purge calls = %+v, want one with a dead-letter cutoff before the finished one", st.got)
	}
	for _, want := range []string{"calls=1", "deliveries=2", "dead_deliveries=3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log = %q, want it to contain %q", logs.String(), want)
		}
	}
}
