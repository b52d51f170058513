package store

import (
	"fmt"
	"time"
)

// DeadFilterSpec is a DeadFilter as a person writes it, in `switchboard replay` flags or the JSON
// body of POST /api/deliveries/retry: Since and Until are each a duration ago ("2h") or an RFC 3339
// time, and refer to when the delivery died.
type DeadFilterSpec struct {
	Sink   string `json:"sink,omitempty"`
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
	Since  string `json:"since,omitempty"`
	Until  string `json:"until,omitempty"`
}

// Parse turns the spec into a DeadFilter, with durations counted back from now. Its errors name the
// field at fault ("since: …").
func (s DeadFilterSpec) Parse(now time.Time) (DeadFilter, error) {
	f := DeadFilter{Sink: s.Sink, Rule: s.Rule, Reason: s.Reason}
	var err error
	if f.Since, err = parseAgo("since", s.Since, now); err != nil {
		return DeadFilter{}, err
	}
	if f.Until, err = parseAgo("until", s.Until, now); err != nil {
		return DeadFilter{}, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until) {
		return DeadFilter{}, fmt.Errorf("since (%s) is after until (%s): nothing can match",
			f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	return f, nil
}

// parseAgo reads a duration ago or an RFC 3339 time; empty is the zero time.
func parseAgo(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s: must be a duration ago such as \"2h\" or an RFC 3339 time such as \"2026-11-30T09:00:00Z\", got %q", name, v)
}
