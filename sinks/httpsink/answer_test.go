package httpsink

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks"
)

// TestWithAnswer checks that Do records the receiver's answer, delivered or not, with the sink's
// secrets redacted from the summary.
func TestWithAnswer(t *testing.T) {
	const secret = "tok-SECRET-123"
	tests := []struct {
		name        string
		status      int
		body        string
		wantErr     bool
		wantSummary string
	}{
		{"delivered", 200, "ok", false, "ok"},
		{"created with JSON", 201, `{"id": 7}`, false, `{"id": 7}`},
		{"refused, echoing the token", 404, "no_service for " + secret, true, "no_service for <secret>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := counter(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			var a Answer
			c := fastClient(Options{RetryMax: -1, Redactor: sinks.NewRedactor(nil, secret)})
			_, err := post(c, WithAnswer(context.Background(), &a), url)
			if (err != nil) != tt.wantErr {
				t.Errorf("Do() error = %v, want error %v", err, tt.wantErr)
			}
			if a.Status != tt.status || a.Summary != tt.wantSummary {
				t.Errorf("answer = %+v, want %d %q", a, tt.status, tt.wantSummary)
			}
		})
	}
	// Without WithAnswer nothing is recorded, and nothing breaks.
	_, url := counter(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	if _, err := post(fastClient(Options{}), context.Background(), url); err != nil {
		t.Fatal(err)
	}
}
