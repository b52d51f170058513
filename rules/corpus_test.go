package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks"
)

var update = flag.Bool("update", false, "rewrite the .want.json files of the rule corpus")

// mustLoad parses and compiles a config from testdata, failing the test on any error.
func mustLoad(t testing.TB, file string) *Ruleset {
	t.Helper()
	cfg := mustParse(t, file)
	rs, err := Compile(cfg)
	if err != nil {
		t.Fatalf("Compile(%s) = %v, want no error", file, err)
	}
	return rs
}

func mustParse(t testing.TB, file string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(file, data, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config.Parse(%s) = %v, want no error", file, err)
	}
	return cfg
}

func mustDecode(t testing.TB, file string) *call.Call {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := call.Decode(data)
	if err != nil {
		t.Fatalf("call.Decode(%s) = %v, want no error", file, err)
	}
	return c
}

// view is a Result as the corpus files record it.
type view struct {
	Matched []string     `json:"matched"`
	Errors  []string     `json:"errors,omitempty"`
	Actions []actionView `json:"actions"`
}

type actionView struct {
	Rule    string        `json:"rule"`
	Index   int           `json:"index"`
	Sink    string        `json:"sink"`
	Type    string        `json:"type"`
	Message sinks.Message `json:"message,omitempty"`
	Error   string        `json:"error,omitempty"`
	Reason  sinks.Reason  `json:"reason,omitempty"`
}

func viewOf(res *Result) view {
	v := view{Matched: res.Matched, Actions: []actionView{}}
	if v.Matched == nil {
		v.Matched = []string{}
	}
	for _, e := range res.Errors {
		v.Errors = append(v.Errors, e.Error())
	}
	for _, a := range res.Actions {
		av := actionView{Rule: a.Rule, Index: a.Index, Sink: a.Sink, Type: a.SinkType, Message: a.Message}
		if a.Err != nil {
			av.Error = a.Err.Error()
			av.Reason = sinks.Classify(a.Err).Reason
		}
		v.Actions = append(v.Actions, av)
	}
	return v
}

// TestCorpus evaluates every payload in testdata/payloads against testdata/config.yaml and compares
// the matches and rendered messages with the payload's .want.json.
func TestCorpus(t *testing.T) {
	rs := mustLoad(t, "testdata/config.yaml")
	files, err := filepath.Glob("testdata/payloads/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, file := range files {
		if strings.HasSuffix(file, ".want.json") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(viewOf(rs.Evaluate(mustDecode(t, file)))); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			wantFile := strings.TrimSuffix(file, ".json") + ".want.json"
			if *update {
				if err := os.WriteFile(wantFile, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("read %s: %v (run go test ./rules -update to create it, then review it)", wantFile, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Evaluate(%s):\ngot  %s\nwant %s", file, got, want)
			}
		})
	}
	if n < 9 {
		t.Errorf("corpus has %d payloads, want at least 9", n)
	}
}

func mustDecodeString(t testing.TB, body string) *call.Call {
	t.Helper()
	c, err := call.Decode([]byte(body))
	if err != nil {
		t.Fatalf("call.Decode(%s) = %v, want no error", body, err)
	}
	return c
}
