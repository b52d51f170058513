package config

import (
	"strings"
	"testing"
	"time"
)

// TestHoldSettings: hold_after and probe_interval are read from defaults and per sink, 0 turns the
// hold off, bad values are errors with their line, and a hold_after not shorter than max_age is a
// warning where it is set.
func TestHoldSettings(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		wantHold  time.Duration
		wantProbe time.Duration
		wantErr   string
		wantWarn  string
	}{
		{name: "defaults", src: "sinks: {crm: {type: log}}\n", wantHold: 15 * time.Minute, wantProbe: time.Minute},
		{name: "from defaults", src: "defaults: {hold_after: 5m, probe_interval: 10s}\nsinks: {crm: {type: log}}\n", wantHold: 5 * time.Minute, wantProbe: 10 * time.Second},
		{name: "per sink, zero turns it off", src: "defaults: {hold_after: 5m}\nsinks:\n  crm:\n    type: log\n    hold_after: 0\n", wantHold: 0, wantProbe: time.Minute},
		{name: "negative", src: "sinks:\n  crm:\n    type: log\n    hold_after: -1m\n", wantErr: `4: sinks.crm.hold_after: must be a positive duration, got "-1m"`},
		{name: "probe zero", src: "defaults:\n  probe_interval: 0\nsinks: {crm: {type: log}}\n", wantErr: `2: defaults.probe_interval: must be a positive duration, got "0"`},
		{name: "not shorter than max_age", src: "sinks:\n  crm:\n    type: log\n    retry: {max_age: 10m}\n", wantHold: 15 * time.Minute, wantProbe: time.Minute,
			wantWarn: `4: sinks.crm.retry.max_age: warning: hold_after (15m0s) is not shorter than retry.max_age (10m0s): deliveries die of max_age before the sink can be held`},
		{name: "hold_after set past max_age", src: "defaults:\n  retry: {max_age: 1h}\n  hold_after: 2h\nsinks: {crm: {type: log}}\n", wantHold: 2 * time.Hour, wantProbe: time.Minute,
			wantWarn: `3: defaults.hold_after: warning: hold_after (2h0m0s) is not shorter than retry.max_age (1h0m0s): deliveries die of max_age before the sink can be held`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f.yaml", []byte(tt.src+"rules: []\n"), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "f.yaml:"+tt.wantErr) {
					t.Fatalf("Parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			d := cfg.Sink("crm").Delivery
			if d.HoldAfter != tt.wantHold || d.ProbeInterval != tt.wantProbe {
				t.Errorf("hold_after %s, probe_interval %s; want %s, %s", d.HoldAfter, d.ProbeInterval, tt.wantHold, tt.wantProbe)
			}
			var warns []string
			for _, w := range cfg.Warnings {
				warns = append(warns, strings.TrimPrefix(w.Error(), "f.yaml:"))
			}
			if got := strings.Join(warns, "\n"); got != tt.wantWarn {
				t.Errorf("warnings = %q, want %q", got, tt.wantWarn)
			}
		})
	}
}
