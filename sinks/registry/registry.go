// Package registry builds a sink from its config, through the constructor its type declares
// (spec.Descriptor.New): adding a sink type changes nothing here.
package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// Options carries what every sink may use.
type Options struct {
	// Logger is the sink's logger (the log sink writes messages to it); nil discards.
	Logger *slog.Logger
}

// Types returns the known sink types, sorted.
func Types() []string {
	types := catalog.Names()
	slices.Sort(types)
	return types
}

// New builds the sink conf describes. An unknown type or bad settings give a *sinks.Error with
// reason config naming the key at fault; the caller prefixes the sink's location (sinks.<name>).
func New(conf *config.Sink, opts Options) (sinks.Sink, error) {
	if conf == nil {
		return nil, sinks.Permanent(sinks.ReasonConfig, errors.New("no sink config: define the sink under sinks"))
	}
	if conf.Spec == nil {
		return nil, sinks.Permanent(sinks.ReasonConfig, fmt.Errorf("unknown type %q (known: %s)",
			conf.Type, strings.Join(Types(), ", ")))
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return conf.Spec.New(conf.Name, conf.Settings, spec.Options{Logger: logger})
}
