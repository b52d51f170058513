// Package sinktest holds what every sink's tests share: a captured logger, the check that no secret
// leaks into errors or logs, a sample delivery, and the table of HTTP statuses with the classification
// each must get, run against every HTTP sink.
package sinktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks"
)

// Buffer is a bytes.Buffer safe for concurrent writers, for capturing logs.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// NewLogger returns a logger that writes every level, as text, into the returned Buffer.
func NewLogger() (*slog.Logger, *Buffer) {
	buf := &Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// AssertNoSecrets fails t for every secret that appears in any of texts (error strings, captured
// logs, previews). Empty secrets are skipped.
func AssertNoSecrets(t testing.TB, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("secret %q leaked into:\n%s", s, text)
			}
		}
	}
}

// ErrorText returns err's text, or "" for nil, for AssertNoSecrets.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// JSON returns v marshalled, for AssertNoSecrets on a Preview; it fails t when v does not marshal.
func JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal preview: %v", err)
	}
	return string(b)
}

// Delivery returns a delivery whose message has a field for every sink type.
func Delivery() *sinks.Delivery {
	return &sinks.Delivery{
		ID: 7, CallID: 12345, Rule: "hot-leads", Action: 1, Attempt: 1,
		Message: sinks.Message(`{"text":"Hot lead &lt;Ann&gt;: wants a demo",` +
			`"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"Hot lead"}}],` +
			`"headers":{"X-Call-Id":"12345"},"body":{"phone":"+15551234567","duration_seconds":125},` +
			`"to":["sales@example.com"],"cc":["boss@example.com"],"subject":"Hot lead: +15551234567",` +
			`"html":"<p>Hot lead</p>"}`),
	}
}

// Read decodes d's message into a sink's message type M; it fails t when the message does not decode.
func Read[M any](t testing.TB, d *sinks.Delivery) M {
	t.Helper()
	var m M
	if err := d.Message.Decode(&m); err != nil {
		t.Fatalf("decode message: %v", err)
	}
	return m
}

// Edit changes d's message as a sink's message type M: it decodes it, calls edit, and encodes it back.
func Edit[M any](t testing.TB, d *sinks.Delivery, edit func(m *M)) {
	t.Helper()
	m := Read[M](t, d)
	edit(&m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("encode message: %v", err)
	}
	d.Message = b
}

// SendError checks the error a Send returned against wantErr: when wantErr is false, err must be nil
// and it returns nil; otherwise err must be a *sinks.Error, which it returns for the caller's checks
// of its reason, retryability and wait.
func SendError(t *testing.T, err error, wantErr bool) *sinks.Error {
	t.Helper()
	if !wantErr {
		if err != nil {
			t.Fatalf("Send() = %v, want nil", err)
		}
		return nil
	}
	var se *sinks.Error
	if !errors.As(err, &se) {
		t.Fatalf("Send() = %v (%T), want a *sinks.Error", err, err)
	}
	return se
}
