// Package registry builds a sink from its config. Its table is the one place that maps a sink type
// to a constructor: adding a sink type touches only the table.
package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/email"
	"github.com/switchboard-relay/switchboard/sinks/logsink"
	"github.com/switchboard-relay/switchboard/sinks/slack"
	"github.com/switchboard-relay/switchboard/sinks/webhook"
)

// Options carries what every sink may use.
type Options struct {
	// Logger is the sink's logger (the log sink writes messages to it); nil discards.
	Logger *slog.Logger
}

// constructor builds one sink type from its config.
type constructor func(conf *config.Sink, logger *slog.Logger) (sinks.Sink, error)

// table maps each sink type to its constructor.
var table = map[string]constructor{
	"slack": func(c *config.Sink, l *slog.Logger) (sinks.Sink, error) {
		return nilSafe(slack.New(c.Name, c.Slack, l))
	},
	"webhook": func(c *config.Sink, l *slog.Logger) (sinks.Sink, error) {
		return nilSafe(webhook.New(c.Name, c.Webhook, l))
	},
	"email": func(c *config.Sink, l *slog.Logger) (sinks.Sink, error) {
		return nilSafe(email.New(c.Name, c.Email, l))
	},
	"log": func(c *config.Sink, l *slog.Logger) (sinks.Sink, error) {
		return logsink.New(c.Name, l), nil
	},
}

// nilSafe keeps a failed constructor's typed nil pointer out of the sinks.Sink interface.
func nilSafe[S sinks.Sink](s S, err error) (sinks.Sink, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Types returns the known sink types, sorted.
func Types() []string {
	types := make([]string, 0, len(table))
	for t := range table {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// New builds the sink conf describes. An unknown type or bad settings give a *sinks.Error with
// reason config naming the key at fault; the caller prefixes the sink's location (sinks.<name>).
func New(conf *config.Sink, opts Options) (sinks.Sink, error) {
	if conf == nil {
		return nil, sinks.Permanent(sinks.ReasonConfig, errors.New("no sink config: define the sink under sinks"))
	}
	build, ok := table[conf.Type]
	if !ok {
		return nil, sinks.Permanent(sinks.ReasonConfig, fmt.Errorf("unknown type %q (known: %s)",
			conf.Type, strings.Join(Types(), ", ")))
	}
	return build(conf, opts.Logger)
}
