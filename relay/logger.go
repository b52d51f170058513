package relay

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns a slog logger writing to w in format "text" (default) or "json" at level "debug",
// "info" (default), "warn" or "error". Unless showPhones is set, every phone number in a logged string
// (the log sink's messages included) keeps only its last four digits: "+1******7890".
func NewLogger(w io.Writer, format, level string, showPhones bool) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "", "info":
		lv = slog.LevelInfo
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("unknown log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if !showPhones {
		opts.ReplaceAttr = maskPhoneAttr
	}
	switch strings.ToLower(format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("unknown log format %q: use text or json", format)
	}
}
