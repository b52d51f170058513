package ruletest

import (
	"fmt"
	"io"
)

// Print writes results the way `switchboard test` shows them: "ok  NAME" or "FAIL NAME", each failure
// under it as its place and what went wrong followed by the difference ("- " expected, "+ " got), and
// a last line "N passed, M failed".
func Print(w io.Writer, results []Result) {
	for _, r := range results {
		if r.OK {
			fmt.Fprintf(w, "ok  %s\n", r.Name)
			continue
		}
		fmt.Fprintf(w, "FAIL %s\n", r.Name)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "     %s:%d: %s: %s\n", r.File, f.Line, f.Path, f.What)
			for _, l := range f.Expected {
				fmt.Fprintf(w, "       - %s\n", l)
			}
			for _, l := range f.Got {
				fmt.Fprintf(w, "       + %s\n", l)
			}
		}
	}
	failed := Failed(results)
	fmt.Fprintf(w, "%d passed, %d failed\n", len(results)-failed, failed)
}
