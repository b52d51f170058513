package relay

import (
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/config"
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
