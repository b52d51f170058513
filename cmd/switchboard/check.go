package main

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/relay"
)

// checkCmd validates a config completely (keys, references, expressions, templates, sinks) and prints
// every problem and warning, then a one-line summary when there is no problem. Only problems make it
// exit 1; warnings alone exit 0. It never prints a secret.
func checkCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	cf := addConfigFlags(fs)
	if pos, err := parseInterleaved(fs, args); err != nil || len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	configPath, err := cf.resolve()
	if err != nil {
		return err
	}
	loaded, err := relay.Load(configPath, slog.New(slog.DiscardHandler))
	if err != nil {
		if es, ok := err.(config.Errors); ok {
			for _, e := range es {
				fmt.Fprintln(stdout, e.Error())
			}
			fmt.Fprintf(stderr, "%s: %d problem(s)%s\n", configPath, es.Problems(), warningCount(len(es)-es.Problems()))
			return exitError{1}
		}
		return err
	}
	cfg := loaded.Runtime.Config
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stdout, w.Error())
	}
	types := map[string]int{}
	for _, s := range cfg.Sinks {
		types[s.Type]++
	}
	var kinds []string
	for t, n := range types {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, t))
	}
	sort.Strings(kinds)
	tests := ""
	if n := len(cfg.Tests); n > 0 {
		tests = fmt.Sprintf(", %d test(s) passed", n)
	}
	fmt.Fprintf(stdout, "%s: ok: %d rule(s), %d sink(s) (%s), storage %s%s%s\n",
		configPath, len(cfg.Rules), len(cfg.Sinks), strings.Join(kinds, ", "), cfg.Storage.Driver, tests, warningCount(len(cfg.Warnings)))
	return nil
}

// warningCount is ", N warning(s)" for a summary line, or "" when there are none.
func warningCount(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d warning(s)", n)
}
