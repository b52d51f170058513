package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

func TestBackoff(t *testing.T) {
	r := config.Retry{InitialBackoff: 2 * time.Second, MaxBackoff: 10 * time.Second}
	tests := []struct {
		name   string
		retry  config.Retry
		n      int
		random float64
		want   time.Duration
	}{
		{name: "first attempt is initial", retry: r, n: 1, random: 0.9, want: 2 * time.Second},
		{name: "second attempt low end", retry: r, n: 2, random: 0, want: 2 * time.Second},
		{name: "second attempt midway", retry: r, n: 2, random: 0.5, want: 3 * time.Second},
		{name: "third attempt near cap", retry: r, n: 3, random: 0.75, want: 6500 * time.Millisecond},
		{name: "capped by max_backoff", retry: r, n: 10, random: 0.5, want: 6 * time.Second},
		{name: "huge attempt number stays capped", retry: r, n: 1000, random: 0.5, want: 6 * time.Second},
		{name: "zero initial means one second", retry: config.Retry{MaxBackoff: 4 * time.Second}, n: 3, random: 0.5, want: 2500 * time.Millisecond},
		{name: "max below initial means initial", retry: config.Retry{InitialBackoff: 5 * time.Second, MaxBackoff: time.Second}, n: 4, random: 0.9, want: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Backoff(tt.retry, tt.n, func() float64 { return tt.random })
			if got != tt.want {
				t.Errorf("Backoff(n=%d, random=%v) = %s, want %s", tt.n, tt.random, got, tt.want)
			}
		})
	}
}

// TestBackoffBounds checks that every attempt's wait lies in [initial, cap] whatever the random value.
func TestBackoffBounds(t *testing.T) {
	r := config.Retry{InitialBackoff: time.Second, MaxBackoff: time.Minute}
	for n := 1; n <= 20; n++ {
		ceiling := min(time.Second<<(n-1), time.Minute)
		for _, x := range []float64{0, 0.25, 0.5, 0.999999} {
			got := Backoff(r, n, func() float64 { return x })
			if got < r.InitialBackoff || got > ceiling {
				t.Errorf("Backoff(n=%d, random=%v) = %s, want within [%s, %s]", n, x, got, r.InitialBackoff, ceiling)
			}
		}
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	retry := config.Retry{MaxAttempts: 5, InitialBackoff: 2 * time.Second, MaxBackoff: time.Minute, MaxAge: time.Hour}
	retryAfter := func(d time.Duration) error {
		return sinks.StatusError(429, d, "")
	}
	tests := []struct {
		name     string
		attempts int
		queued   time.Duration // how long before now the delivery was queued
		err      error
		// want* describe the outcome; wantNextMin/Max bound NextAttemptAt - now for a retry.
		wantState   store.State
		wantResult  string
		wantReason  string
		wantStatus  int
		wantNextMin time.Duration
		wantNextMax time.Duration
		wantError   string // prefix of the recorded error
	}{
		{name: "success", attempts: 1, err: nil, wantState: store.Delivered, wantResult: "success"},
		{name: "permanent", attempts: 1, err: sinks.StatusError(400, 0, "bad field"),
			wantState: store.Dead, wantResult: "permanent", wantReason: "client_error", wantStatus: 400,
			wantError: "receiver answered 400 Bad Request: bad field"},
		{name: "auth is permanent", attempts: 1, err: sinks.StatusError(401, 0, ""),
			wantState: store.Dead, wantResult: "permanent", wantReason: "auth", wantStatus: 401},
		{name: "retryable first attempt", attempts: 1, err: sinks.StatusError(503, 0, ""),
			wantState: store.Pending, wantResult: "retry", wantReason: "server_error", wantStatus: 503,
			wantNextMin: 2 * time.Second, wantNextMax: 2 * time.Second},
		{name: "retryable third attempt within cap", attempts: 3, err: sinks.StatusError(502, 0, ""),
			wantState: store.Pending, wantResult: "retry", wantReason: "server_error", wantStatus: 502,
			wantNextMin: 2 * time.Second, wantNextMax: 8 * time.Second},
		{name: "plain error is a connection retry", attempts: 1, err: errors.New("connection refused"),
			wantState: store.Pending, wantResult: "retry", wantReason: "connection",
			wantNextMin: 2 * time.Second, wantNextMax: 2 * time.Second, wantError: "connection refused"},
		{name: "deadline is a timeout retry", attempts: 2, err: fmt.Errorf("post: %w", context.DeadlineExceeded),
			wantState: store.Pending, wantResult: "retry", wantReason: "timeout",
			wantNextMin: 2 * time.Second, wantNextMax: 4 * time.Second},
		{name: "Retry-After later than backoff wins", attempts: 1, err: retryAfter(30 * time.Second),
			wantState: store.Pending, wantResult: "retry", wantReason: "rate_limited", wantStatus: 429,
			wantNextMin: 30 * time.Second, wantNextMax: 30 * time.Second},
		{name: "Retry-After earlier than backoff loses", attempts: 4, err: retryAfter(time.Second),
			wantState: store.Pending, wantResult: "retry", wantReason: "rate_limited", wantStatus: 429,
			wantNextMin: 2 * time.Second, wantNextMax: 16 * time.Second},
		{name: "max_attempts reached", attempts: 5, err: sinks.StatusError(500, 0, ""),
			wantState: store.Dead, wantResult: "permanent", wantReason: "server_error", wantStatus: 500,
			wantError: "gave up after 5 attempts: receiver answered 500"},
		{name: "below max_attempts still retries", attempts: 4, err: sinks.StatusError(500, 0, ""),
			wantState: store.Pending, wantResult: "retry", wantReason: "server_error", wantStatus: 500,
			wantNextMin: 2 * time.Second, wantNextMax: 16 * time.Second},
		{name: "next attempt past max_age", attempts: 2, queued: time.Hour - time.Second, err: sinks.StatusError(500, 0, ""),
			wantState: store.Dead, wantResult: "permanent", wantReason: "server_error", wantStatus: 500,
			wantError: "gave up after 2 attempts: the next would be past max_age 1h0m0s"},
		{name: "Retry-After past max_age", attempts: 1, queued: 30 * time.Minute, err: retryAfter(time.Hour),
			wantState: store.Dead, wantResult: "permanent", wantReason: "rate_limited", wantStatus: 429,
			wantError: "gave up after 1 attempt: the next would be past max_age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, x := range []float64{0, 0.5, 0.999} {
				// Replayed after 10 attempts: the budget counts Attempts, the history AttemptNumber.
				sd := &store.Delivery{ID: 7, Attempts: tt.attempts, AttemptNumber: tt.attempts + 10, QueuedAt: now.Add(-tt.queued)}
				start := now.Add(-time.Second)
				o := decide(retry, sd, tt.err, start, 250*time.Millisecond, now, func() float64 { return x })
				a := o.Attempt
				if o.State != tt.wantState || a.Result != tt.wantResult {
					t.Fatalf("random %v: state %q result %q, want %q %q (error %q)", x, o.State, a.Result, tt.wantState, tt.wantResult, a.Error)
				}
				if a.Reason != tt.wantReason || a.StatusCode != tt.wantStatus {
					t.Errorf("reason %q status %d, want %q %d", a.Reason, a.StatusCode, tt.wantReason, tt.wantStatus)
				}
				if a.DeliveryID != 7 || a.Number != tt.attempts+10 || !a.StartedAt.Equal(start) || a.Duration != 250*time.Millisecond {
					t.Errorf("attempt = %+v, want delivery 7, number %d, started %s, 250ms", a, tt.attempts+10, start)
				}
				if !strings.HasPrefix(a.Error, tt.wantError) {
					t.Errorf("error = %q, want prefix %q", a.Error, tt.wantError)
				}
				if o.State != store.Pending {
					if !o.NextAttemptAt.IsZero() {
						t.Errorf("NextAttemptAt = %s for a finished delivery, want zero", o.NextAttemptAt)
					}
					continue
				}
				if wait := o.NextAttemptAt.Sub(now); wait < tt.wantNextMin || wait > tt.wantNextMax {
					t.Errorf("random %v: next attempt in %s, want within [%s, %s]", x, wait, tt.wantNextMin, tt.wantNextMax)
				}
			}
		})
	}
}
