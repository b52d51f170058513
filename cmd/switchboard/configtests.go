package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/switchboard-relay/switchboard/relay"
	"github.com/switchboard-relay/switchboard/ruletest"
)

// runConfigTests runs the config's `tests:` (`switchboard test` without payloads) and prints one line
// per test and a summary, or one JSON object per test. It returns exit status 1 when a test failed.
func runConfigTests(loaded *relay.Loaded, asJSON bool, stdout io.Writer) error {
	results := ruletest.Run(loaded.Runtime.Config, loaded.Runtime.Rules)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("encode result: %w", err)
			}
		}
	} else {
		ruletest.Print(stdout, results)
	}
	if ruletest.Failed(results) > 0 {
		return exitError{1}
	}
	return nil
}
