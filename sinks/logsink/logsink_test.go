package logsink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

func TestSendLogsTheMessage(t *testing.T) {
	var buf bytes.Buffer
	s := New("audit", slog.New(slog.NewJSONHandler(&buf, nil)))
	d := sinktest.Delivery()
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q is not one JSON object: %v", buf.String(), err)
	}
	wantMessage, err := json.Marshal(d.Message)
	if err != nil {
		t.Fatalf("marshal message: %v", err)
	}
	tests := []struct {
		key  string
		want any
	}{
		{key: "level", want: "INFO"},
		{key: "sink", want: "audit"},
		{key: "call_id", want: float64(12345)},
		{key: "rule", want: "hot-leads"},
		{key: "action", want: float64(1)},
		{key: "message", want: string(wantMessage)},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if got := line[tc.key]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s = %#v, want %#v", tc.key, got, tc.want)
			}
		})
	}
}

func TestPreviewIsTheMessage(t *testing.T) {
	d := sinktest.Delivery()
	got, err := New("audit", nil).Preview(d)
	if err != nil {
		t.Fatalf("Preview() = %v", err)
	}
	if m, ok := got.(sinks.Message); !ok || string(m) != string(d.Message) {
		t.Errorf("Preview() = %v, want the delivery's message", got)
	}
}

func TestWithoutMessage(t *testing.T) {
	s := New("audit", nil)
	tests := []struct {
		name string
		d    *sinks.Delivery
	}{
		{name: "nil delivery", d: nil},
		{name: "nil message", d: &sinks.Delivery{CallID: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Send(context.Background(), tc.d)
			var se *sinks.Error
			if !errors.As(err, &se) || se.Reason != sinks.ReasonTemplate || se.Retryable {
				t.Errorf("Send() = %v, want a permanent template *sinks.Error", err)
			}
		})
	}
}
