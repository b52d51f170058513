package httpsink

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/switchboard-relay/switchboard/sinks"
)

// leveledLogger adapts an slog.Logger to go-retryablehttp's LeveledLogger, redacting every value (the
// library logs the request URL, which for Slack is the secret). go-retryablehttp's "request failed" is
// one failed attempt, not the delivery's outcome, so its Error level is logged as Warn; the queue
// logs the outcome.
type leveledLogger struct {
	log    *slog.Logger
	redact *sinks.Redactor
}

func (l leveledLogger) Error(msg string, kv ...any) { l.emit(slog.LevelWarn, msg, kv) }
func (l leveledLogger) Warn(msg string, kv ...any)  { l.emit(slog.LevelWarn, msg, kv) }
func (l leveledLogger) Info(msg string, kv ...any)  { l.emit(slog.LevelInfo, msg, kv) }
func (l leveledLogger) Debug(msg string, kv ...any) { l.emit(slog.LevelDebug, msg, kv) }

func (l leveledLogger) emit(level slog.Level, msg string, kv []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		key := fmt.Sprint(kv[i])
		var val string
		switch v := kv[i+1].(type) {
		case error:
			val = v.Error()
		default:
			val = fmt.Sprint(v)
		}
		if key == "url" {
			val = sinks.RedactURL(val)
		}
		attrs = append(attrs, slog.String(key, l.redact.Redact(val)))
	}
	l.log.LogAttrs(ctx, level, "http: "+l.redact.Redact(msg), attrs...)
}
