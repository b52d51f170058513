package relay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/dispatch"
	"github.com/switchboard-relay/switchboard/notify"
	"github.com/switchboard-relay/switchboard/router"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/ruletest"
	"github.com/switchboard-relay/switchboard/sinks/registry"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/postgres"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// Loaded is a configuration with everything built from it: compiled rules and constructed sinks.
// Building it has no side effects, so `switchboard check`, `switchboard test` and a reload all use it.
type Loaded struct {
	Runtime *router.Runtime
	Targets map[string]*dispatch.Target
	// Notify is the compiled notify section.
	Notify *notify.Settings
}

// Load reads, validates and compiles the config at path and builds its sinks, which log to logger.
// Its error lists every problem found, each as "file:line: key: what is wrong", together with the
// config's warnings (config.Error.Warning set; count the problems with config.Errors.Problems). On
// success the warnings are in Runtime.Config.Warnings, and each is logged to logger at warn level.
//
// The config's tests (`tests:`) are run on the compiled rules, and each failing expectation is a
// problem: this one place makes `check` report them, `serve` refuse to start and a reload be rejected.
func Load(path string, logger *slog.Logger) (*Loaded, error) {
	l, _, err := load(path, true, func(*config.Config) (*slog.Logger, error) { return logger, nil })
	return l, err
}

// LoadUntested is Load without running the config's tests, for `switchboard test`, which runs and
// reports them itself (ruletest.Run), and whose dry run works whatever the tests say.
func LoadUntested(path string, logger *slog.Logger) (*Loaded, error) {
	l, _, err := load(path, false, func(*config.Config) (*slog.Logger, error) { return logger, nil })
	return l, err
}

// load is Load with the sinks' logger chosen from the valid config itself (its log block), so the
// file is read and compiled once; it also returns that logger.
func load(path string, runTests bool, loggerFor func(*config.Config) (*slog.Logger, error)) (*Loaded, *slog.Logger, error) {
	cfg, err := config.Load(path)
	if cfg == nil {
		return nil, nil, err
	}
	var problems config.Errors
	if err != nil {
		es, ok := err.(config.Errors)
		if !ok {
			return nil, nil, err
		}
		problems = append(problems, es...)
	}
	rs, rerr := rules.Compile(cfg)
	if rerr != nil {
		es, ok := rerr.(config.Errors)
		if !ok {
			return nil, nil, rerr
		}
		problems = append(problems, es...)
	}
	ns, nerr := notify.Compile(cfg)
	if nerr != nil {
		es, ok := nerr.(config.Errors)
		if !ok {
			return nil, nil, nerr
		}
		problems = append(problems, es...)
	}
	if rerr == nil && runTests && len(problems) == 0 {
		problems = append(problems, ruletest.Problems(ruletest.Run(cfg, rs))...)
	}
	targets := map[string]*dispatch.Target{}
	var logger *slog.Logger
	if len(problems) == 0 {
		if logger, err = loggerFor(cfg); err != nil {
			return nil, nil, err
		}
		for _, sc := range cfg.Sinks {
			s, err := registry.New(sc, registry.Options{Logger: logger})
			if err != nil {
				problems = append(problems, &config.Error{File: cfg.File, Line: sc.Line, Path: "sinks." + sc.Name, Msg: err.Error()})
				continue
			}
			targets[sc.Name] = &dispatch.Target{Conf: sc, Sink: s}
		}
	}
	if len(problems) > 0 {
		problems = append(problems, cfg.Warnings...)
		// By file and line; problems of one line keep their order.
		config.SortErrors(problems, cfg)
		return nil, nil, problems
	}
	for _, w := range cfg.Warnings {
		logger.Warn("config warning", "warning", w.Error())
	}
	return &Loaded{Runtime: &router.Runtime{Config: cfg, Rules: rs}, Targets: targets, Notify: ns}, logger, nil
}

// OpenStore opens the storage that cfg names, creating an SQLite database that does not exist yet.
// Only serve should: other commands use OpenExistingStore.
func OpenStore(ctx context.Context, cfg config.Storage, logger *slog.Logger) (store.Store, error) {
	return openStore(ctx, cfg, logger, false)
}

// OpenExistingStore is OpenStore for every command but serve (replay and the like): it never creates
// an SQLite database. A missing one is an error naming its path, since it means the config points
// somewhere serve never ran.
func OpenExistingStore(ctx context.Context, cfg config.Storage, logger *slog.Logger) (store.Store, error) {
	s, err := openStore(ctx, cfg, logger, true)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("storage: %s does not exist (run serve first, or check storage.path)", cfg.Path)
	}
	return s, err
}

func openStore(ctx context.Context, cfg config.Storage, logger *slog.Logger, mustExist bool) (store.Store, error) {
	switch cfg.Driver {
	case "", "sqlite":
		s, err := sqlite.Open(cfg.Path, sqlite.Options{Logger: logger, MustExist: mustExist})
		if err != nil {
			return nil, err
		}
		return s, nil
	case "postgres":
		s, err := postgres.Open(ctx, string(cfg.DSN), postgres.Options{Logger: logger})
		if err != nil {
			return nil, err
		}
		return s, nil
	default:
		return nil, fmt.Errorf("unknown storage.driver %q: use \"sqlite\" or \"postgres\"", cfg.Driver)
	}
}
