package ruletest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/internal/mdblocks"
	"github.com/switchboard-relay/switchboard/rules"
)

const configDoc = "../docs/config.md"

var sinkName = regexp.MustCompile(`(?m)^\s*-?\s*sink:\s*([\w.-]+)`)

// TestConfigDocExamples loads every yaml block of docs/config.md, read from the file. The convention:
// a yaml block is a config file, or a part of one that needs only sinks: a block without `sinks:`
// gets a log sink for each sink name it uses. Each must load without problems (warnings are allowed:
// an include glob matches nothing here), compile, and pass its own tests. Output that is not a config
// (error messages, commands) is fenced without a language.
func TestConfigDocExamples(t *testing.T) {
	all, err := mdblocks.Read(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, b := range all {
		if b.Lang != "yaml" {
			continue
		}
		blocks++
		t.Run(fmt.Sprintf("line %d", b.Line), func(t *testing.T) {
			src := b.Text
			if !regexp.MustCompile(`(?m)^sinks:`).MatchString(src) {
				src += "sinks:\n"
				seen := map[string]bool{}
				for _, m := range sinkName.FindAllStringSubmatch(b.Text, -1) {
					if !seen[m[1]] {
						seen[m[1]] = true
						src += "  " + m[1] + ": {type: log}\n"
					}
				}
			}
			// Named as if it sat in docs/, so relative paths resolve there.
			file := fmt.Sprintf("../docs/config.md.line%d.yaml", b.Line)
			cfg, err := config.Parse(file, []byte(src), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatalf("%s:%d: the example does not load:\n%v", configDoc, b.Line, err)
			}
			rs, err := rules.Compile(cfg)
			if err != nil {
				t.Fatalf("%s:%d: the example's rules do not compile:\n%v", configDoc, b.Line, err)
			}
			results := Run(cfg, rs)
			if Failed(results) > 0 {
				var out strings.Builder
				Print(&out, results)
				t.Errorf("%s:%d: the example's tests fail:\n%s", configDoc, b.Line, out.String())
			}
		})
	}
	if blocks == 0 {
		t.Fatalf("%s has no yaml block: the test reads the wrong file", configDoc)
	}
}
