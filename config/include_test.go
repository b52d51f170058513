package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes files (path relative to dir: content) and returns dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func rule(name string) string { return "  - name: " + name + "\n    actions: [{sink: s}]\n" }

func TestInclude(t *testing.T) {
	const sinks = "sinks: {s: {type: log}}\n"
	tests := []struct {
		name      string
		files     map[string]string
		wantRules string // name@file, in order
		wantTests string
		wantErrs  []string // substrings, in order, of problems and warnings
	}{
		{name: "file order then include order, each glob sorted",
			files: map[string]string{
				"main.yaml":    sinks + "include: [b/*.yaml, a.yaml]\nrules:\n" + rule("m") + "tests: [{name: tm, call: {id: 1}, expect: {matched: [m]}}]\n",
				"b/2.yaml":     "rules:\n" + rule("b2"),
				"b/1.yaml":     "rules:\n" + rule("b1") + "tests: [{name: t1, payload: call.json, expect: {matched: [m, b1]}}]\n",
				"a.yaml":       "rules:\n" + rule("a"),
				"b/call.json":  `{"id": 1}`,
				"b/ignored.md": "not yaml",
			},
			wantRules: "m@main.yaml b1@b/1.yaml b2@b/2.yaml a@a.yaml", wantTests: "tm@main.yaml t1@b/1.yaml:b/call.json"},
		{name: "a file matched twice is read once; the config itself never",
			files: map[string]string{
				"main.yaml": sinks + "include: ['*.yaml', x.yaml]\nrules:\n" + rule("m"),
				"x.yaml":    "rules:\n" + rule("x"),
			},
			wantRules: "m@main.yaml x@x.yaml"},
		{name: "a glob that matches nothing is a warning", files: map[string]string{"main.yaml": sinks + "include: rules/*.yaml\n"},
			wantErrs: []string{`main.yaml:2: include: warning: "rules/*.yaml" matches no file`}},
		{name: "an included file holds rules and tests only, errors name it",
			files: map[string]string{
				"main.yaml": sinks + "include: [r.yaml]\nrules:\n" + rule("m"),
				"r.yaml":    "sinks: {}\nrules:\n" + rule("m") + "  - name: y\n    actions: [{sink: nope}]\n",
			},
			wantErrs: []string{`r.yaml:1: sinks: unknown key`, `r.yaml:3: rules: duplicate rule name "m" (first at `, `r.yaml:6: rules[1].actions[0].sink: undefined sink "nope"`}},
		{name: "folders are skipped, devices refused",
			files:    map[string]string{"main.yaml": sinks + "include: ['rules/*', '/dev/nul?']\n", "rules/sub/x.yaml": "rules: []\n"},
			wantErrs: []string{`main.yaml:2: include[1]: /dev/null is not a regular file`}},
		{name: "a bad pattern", files: map[string]string{"main.yaml": sinks + "include: ['[']\n"},
			wantErrs: []string{`main.yaml:2: include[0]: invalid pattern "["`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			cfg, err := Load(filepath.Join(dir, "main.yaml"))
			var got []string
			if es, ok := err.(Errors); ok {
				got = append(got, strings.Split(es.Error(), "\n")...)
			} else if err != nil {
				t.Fatal(err)
			}
			if cfg != nil {
				for _, w := range cfg.Warnings {
					got = append(got, w.Error())
				}
			}
			if len(got) != len(tt.wantErrs) {
				t.Fatalf("problems and warnings:\n%s\nwant %d: %q", strings.Join(got, "\n"), len(tt.wantErrs), tt.wantErrs)
			}
			for i, w := range tt.wantErrs {
				if !strings.Contains(got[i], w) {
					t.Errorf("[%d] = %s, want it to contain %s", i, got[i], w)
				}
			}
			if tt.wantErrs != nil {
				return
			}
			rel := func(p string) string { r, _ := filepath.Rel(dir, p); return filepath.ToSlash(r) }
			var rules, tests []string
			for _, r := range cfg.Rules {
				rules = append(rules, r.Name+"@"+rel(r.File))
			}
			for _, tc := range cfg.Tests {
				s := tc.Name + "@" + rel(tc.File)
				if tc.Payload != "" {
					s += ":" + rel(tc.Payload)
				}
				tests = append(tests, s)
			}
			if g := strings.Join(rules, " "); g != tt.wantRules {
				t.Errorf("rules = %s, want %s", g, tt.wantRules)
			}
			if g := strings.Join(tests, " "); g != tt.wantTests {
				t.Errorf("tests = %s, want %s", g, tt.wantTests)
			}
		})
	}
}

// TestInlineCall checks that a test's call: becomes the JSON document it reads as.
func TestInlineCall(t *testing.T) {
	src := `sinks: {s: {type: log}}
rules: [{name: r, actions: [{sink: s}]}]
tests:
  - name: t
    call:
      id: 12345
      duration: 1_000
      score: 8.5
      customer_phone: "+15551234567"
      assistant_phone: null
      created_at: 2025-01-15T10:30:00Z
      ok: true
      transcript: [{text: "hi: there", sender: human}]
      vars: &v { a: "${NAME:-x}" }
      again: *v
    expect:
      matched: [r]
      actions: [{sink: s, equals: {n: 1, s: "1", l: [a]}}]
`
	cfg, err := Parse("f.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"again":{"a":"x"},"assistant_phone":null,"created_at":"2025-01-15T10:30:00Z","customer_phone":"+15551234567","duration":1000,"id":12345,"ok":true,"score":8.5,"transcript":[{"sender":"human","text":"hi: there"}],"vars":{"a":"x"}}`
	if got := string(cfg.Tests[0].Call); got != want {
		t.Errorf("call = %s\nwant   %s", got, want)
	}
	if got := string(cfg.Tests[0].Actions[0].Equals); got != `{"l":["a"],"n":1,"s":"1"}` {
		t.Errorf("equals = %s", got)
	}
}
