package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/relay"
	"github.com/switchboard-relay/switchboard/sinks"
)

// dryRunAction is one rendered action of a dry run.
type dryRunAction struct {
	Rule    string `json:"rule"`
	Sink    string `json:"sink"`
	Type    string `json:"type"`
	Message any    `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

// dryRunResult is the outcome for one payload: the line `test --json` prints.
type dryRunResult struct {
	Payload string         `json:"payload"`
	CallID  int64          `json:"call_id,omitempty"`
	Matched []string       `json:"matched"`
	Actions []dryRunAction `json:"actions"`
	// RuleErrors are `when` conditions that failed on this payload (counted as not matched, as the
	// server does), keyed by rule.
	RuleErrors map[string]string `json:"rule_errors,omitempty"`
	// Why says, for each rule, whether it matched and, when not, which part of its condition was
	// false (rules.Verdict), in file order.
	Why   []string `json:"why,omitempty"`
	Error string   `json:"error,omitempty"`
}

// testCmd is the dry run: for each payload, which rules match and exactly what each action would send,
// rendered by the same code as the server. It sends nothing.
func testCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("test", stderr)
	cf := addConfigFlags(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per payload, one per line")
	payloads, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	configPath, err := cf.resolve()
	if err != nil {
		return err
	}
	loaded, err := relay.LoadUntested(configPath, slog.New(slog.DiscardHandler))
	if err != nil {
		// On stderr, so that stdout stays one JSON object per line with --json.
		fmt.Fprintln(stderr, err.Error())
		return exitError{1}
	}
	for _, w := range loaded.Runtime.Config.Warnings {
		fmt.Fprintln(stderr, w.Error()) // on stderr, as problems are
	}
	if len(payloads) == 0 {
		if len(loaded.Runtime.Config.Tests) == 0 {
			fmt.Fprintf(stderr, "switchboard test: %s has no tests: name at least one payload file (or - for stdin), or write tests: in the config\n", configPath)
			fs.Usage()
			return errUsage
		}
		return runConfigTests(loaded, *asJSON, stdout)
	}
	failed := false
	for _, p := range payloads {
		res := dryRun(loaded, p, stdin)
		if res.Error != "" {
			failed = true
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetEscapeHTML(false) // show <secret> and Slack's <!here> as they are
			if err := enc.Encode(res); err != nil {
				return fmt.Errorf("encode result: %w", err)
			}
			continue
		}
		printDryRun(stdout, loaded, res)
	}
	if failed {
		return exitError{1}
	}
	return nil
}

func dryRun(loaded *relay.Loaded, payload string, stdin io.Reader) dryRunResult {
	res := dryRunResult{Payload: payload, Matched: []string{}, Actions: []dryRunAction{}}
	var body []byte
	var err error
	if payload == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(payload)
	}
	if err != nil {
		res.Error = "read payload: " + err.Error()
		return res
	}
	c, err := call.Decode(body)
	if err != nil {
		res.Error = "invalid payload: " + err.Error()
		return res
	}
	res.CallID = c.ID
	for _, v := range loaded.Runtime.Rules.Explain(c) {
		res.Why = append(res.Why, v.Rule+": "+v.String())
	}
	out := loaded.Runtime.Rules.Evaluate(c)
	if out.Matched != nil {
		res.Matched = out.Matched
	}
	for _, e := range out.Errors {
		if res.RuleErrors == nil {
			res.RuleErrors = map[string]string{}
		}
		res.RuleErrors[e.Rule] = e.Err.Error()
	}
	for _, a := range out.Actions {
		da := dryRunAction{Rule: a.Rule, Sink: a.Sink, Type: a.SinkType}
		if a.Err != nil {
			da.Error = a.Err.Error()
		} else if t := loaded.Targets[a.Sink]; t != nil {
			msg, err := t.Sink.Preview(&sinks.Delivery{CallID: c.ID, Rule: a.Rule, Action: a.Index, Attempt: 1, Message: a.Message})
			if err != nil {
				da.Error = err.Error()
			} else {
				da.Message = msg
			}
		}
		res.Actions = append(res.Actions, da)
	}
	return res
}

func printDryRun(w io.Writer, loaded *relay.Loaded, res dryRunResult) {
	if res.Error != "" {
		fmt.Fprintf(w, "%s: %s\n\n", res.Payload, res.Error)
		return
	}
	fmt.Fprintf(w, "%s: call %d\n", res.Payload, res.CallID)
	for i, r := range loaded.Runtime.Config.Rules {
		verdict := "not matched"
		if i < len(res.Why) {
			verdict = strings.TrimPrefix(res.Why[i], r.Name+": ")
		} else if slices.Contains(res.Matched, r.Name) {
			verdict = "matched"
		}
		fmt.Fprintf(w, "  rule %-20s %s\n", r.Name, verdict)
	}
	for _, a := range res.Actions {
		fmt.Fprintf(w, "  action %s -> %s (%s):\n", a.Rule, a.Sink, a.Type)
		if a.Error != "" {
			fmt.Fprintf(w, "    failed to render: %s\n", a.Error)
			continue
		}
		var pretty strings.Builder
		enc := json.NewEncoder(&pretty)
		enc.SetEscapeHTML(false)
		enc.SetIndent("    ", "  ")
		if err := enc.Encode(a.Message); err != nil {
			fmt.Fprintf(w, "    (unprintable: %v)\n", err)
			continue
		}
		fmt.Fprintf(w, "    %s", pretty.String())
	}
	fmt.Fprintln(w)
}
