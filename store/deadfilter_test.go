package store

import (
	"strings"
	"testing"
	"time"
)

func TestDeadFilterSpecParse(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		spec    DeadFilterSpec
		want    DeadFilter
		wantErr string
	}{
		{name: "empty", want: DeadFilter{}},
		{name: "fields", spec: DeadFilterSpec{Sink: "crm", Rule: "hot", Reason: "client_error"},
			want: DeadFilter{Sink: "crm", Rule: "hot", Reason: "client_error"}},
		{name: "since a duration ago", spec: DeadFilterSpec{Since: "2h"}, want: DeadFilter{Since: now.Add(-2 * time.Hour)}},
		{name: "until RFC 3339", spec: DeadFilterSpec{Until: "2026-11-30T09:00:00Z"},
			want: DeadFilter{Until: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}},
		{name: "until a duration ago", spec: DeadFilterSpec{Since: "3h", Until: "30m"},
			want: DeadFilter{Since: now.Add(-3 * time.Hour), Until: now.Add(-30 * time.Minute)}},
		{name: "bad since", spec: DeadFilterSpec{Since: "yesterday"}, wantErr: `since: must be a duration ago`},
		{name: "negative duration", spec: DeadFilterSpec{Until: "-1h"}, wantErr: `until: must be a duration ago`},
		{name: "since after until", spec: DeadFilterSpec{Since: "1h", Until: "2h"}, wantErr: `is after until`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Parse(now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Parse = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
