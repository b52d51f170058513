package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite docs/config.schema.json from the key tables and docs/config.md")

const schemaFile = "../docs/config.schema.json"

func generated(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	out, err := GenerateJSONSchema(doc)
	if err != nil {
		t.Fatalf("GenerateJSONSchema: %v", err)
	}
	return out
}

// TestJSONSchemaUpToDate checks that docs/config.schema.json is what the key tables and
// docs/config.md generate. After adding a key: go generate ./config.
func TestJSONSchemaUpToDate(t *testing.T) {
	want := generated(t)
	if *updateSchema {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go generate ./config", schemaFile)
	}
}

// TestKeySpecsCoverTables checks that every key of the decoder's tables has a keySpec (so the
// schema knows its value), and every keySpec a key (so none is stale).
func TestKeySpecsCoverTables(t *testing.T) {
	paths := map[string]bool{}
	for _, p := range schemaKeyPaths() {
		paths[p] = true
		if _, ok := keySpecs[p]; !ok {
			t.Errorf("key %s has no keySpec (config/keyspec.go)", p)
		}
	}
	for p, s := range keySpecs {
		base := strings.TrimSuffix(strings.TrimSuffix(p, ".*"), "[]")
		if base != p {
			if k := keySpecs[base].kind; k != kindMap && k != kindList {
				t.Errorf("keySpec %s: %s is not a map or list", p, base)
			}
			continue
		}
		if !paths[p] {
			t.Errorf("keySpec %s names no key of the tables", p)
		}
		if s.kind == kindObject && objectTables[p] == nil && s.like == "" {
			t.Errorf("keySpec %s is an object without a key table", p)
		}
	}
}

// TestJSONSchemaDescribesEveryKey checks that docs/config.md documents every key that holds a
// value, so the schema gives editors a description for each.
func TestJSONSchemaDescribesEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	descs := docDescriptions(doc)
	for _, p := range schemaKeyPaths() {
		if s := keySpecs[p]; s.kind == kindObject {
			continue
		}
		if descs[p] == "" {
			t.Errorf("docs/config.md has no table row for %s", p)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(generated(t)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatalf("compile the schema: %v", err)
	}
	return s
}

// yamlToJSON turns a YAML document into the JSON value the schema validates.
func yamlToJSON(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// repoConfigs returns every config in the repository: YAML files outside testdata whose keys are
// config sections, and the yaml blocks of the Markdown docs that are.
func repoConfigs(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	isConfig := func(src []byte) bool {
		var top map[string]any
		if yaml.Unmarshal(src, &top) != nil || len(top) == 0 {
			return false
		}
		for k := range top {
			if !contains(topKeys, k) {
				return false
			}
		}
		return true
	}
	fence := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		data, rerr := os.ReadFile(path)
		switch ext := filepath.Ext(path); {
		case d.IsDir():
		case rerr != nil:
			return rerr
		case ext == ".yaml" || ext == ".yml":
			if isConfig(data) {
				out[path] = data
			}
		case ext == ".md":
			for i, m := range fence.FindAllSubmatch(data, -1) {
				if isConfig(m[1]) {
					out[path+"#"+itoa(i)] = m[1]
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConfigsMatchJSONSchema validates every config of the repository against the schema: the
// example, the docs' examples, and any under examples/ or deploy/.
func TestConfigsMatchJSONSchema(t *testing.T) {
	s := compileSchema(t)
	configs := repoConfigs(t)
	if _, ok := configs[filepath.Join("..", "config.example.yaml")]; !ok {
		t.Fatalf("config.example.yaml not found among %d configs", len(configs))
	}
	names := make([]string, 0, len(configs))
	for n := range configs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(yamlToJSON(t, configs[name])); err != nil {
				t.Errorf("does not match docs/config.schema.json:\n%v", err)
			}
		})
	}
}

// TestExampleNamesItsSchema checks the first line of config.example.yaml, which tells editors
// (yaml-language-server) where the schema is.
func TestExampleNamesItsSchema(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const want = "# yaml-language-server: $schema=docs/config.schema.json\n"
	if !strings.HasPrefix(string(data), want) {
		t.Errorf("config.example.yaml starts with %q, want %q", strings.SplitN(string(data), "\n", 2)[0], want)
	}
}

// TestJSONSchemaAgreesWithDecoder checks configs the decoder accepts and rejects against the
// schema: the schema must accept what loads (${VAR} included), and reject the key and value
// mistakes it can see.
func TestJSONSchemaAgreesWithDecoder(t *testing.T) {
	s := compileSchema(t)
	tests := []struct {
		name  string
		src   string
		valid bool
	}{
		{name: "env everywhere", valid: true, src: `
server: { listen: "${LISTEN:-:8080}", max_body_bytes: "${MAX:-4MiB}", auth: { token: "${T}" } }
storage: { driver: "${DRIVER:-sqlite}", retention: "${RET:-0}", lease: "${LEASE:-2m}" }
log: { level: "${LEVEL:-info}", show_phone_numbers: "${SHOW:-false}" }
defaults: { retry: { max_attempts: "${N:-3}" }, concurrency: "${C:-4}" }
sinks:
  a: { type: "${A_TYPE:-log}", url: "${URL:-}", webhook_url: x, smtp: { port: "${PORT:-25}" }, rate_limit: "${R:-1/s}" }
schema:
  extracted_variables: { q: "${Q_TYPE:-string}" }
`},
		{name: "every form the decoder reads", valid: true, src: `
server: { max_body_bytes: 512 KiB }
storage: { driver: Postgres, dsn: x, retention: 0 }
log: { level: WARN, format: json, show_phone_numbers: True }
sinks:
  s: { type: slack, webhook_url: "https://hooks.slack.com/x", timeout: 1m30s, retry: { max_backoff: 5m } }
  w: { type: webhook, url: "https://crm.example.com/", method: patch, headers: { X-A: b } }
  e: { type: email, smtp: { host: h, port: 465, tls: implicit }, from: a@b.c }
rules:
  - name: r
    when: status == "completed"
    stop: true
    actions:
      - { sink: s, text: "{{ id }}", blocks: [{ type: section }] }
      - { sink: e, to: [a@b.c, "{{ x }}"], cc: c@d.e, subject: s, text: t }
      - { sink: w, body: { n: 1, list: [1, 2] }, headers: { X-Id: "{{ id }}" } }
schema:
  extracted_variables: { q: { enum: [high, low] }, n: number, s: String }
  input_variables:
`},
		{name: "empty sections", valid: true, src: "server:\nsinks:\nrules:\n"},
		{name: "unknown top key", src: "colour: blue\n"},
		{name: "unknown server key", src: "server: { listn: ':80' }\n"},
		{name: "key of another sink type", src: "sinks: { s: { type: slack, webhook_url: x, smtp: { host: h } } }\n"},
		{name: "bad enum", src: "log: { level: loud }\n"},
		{name: "bad duration", src: "storage: { lease: 2 minutes }\n"},
		{name: "bad rate", src: "sinks: { s: { type: log, rate_limit: fast } }\n"},
		{name: "integer too small", src: "defaults: { concurrency: 0 }\n"},
		{name: "bad sink name", src: "sinks: { 'my sink': { type: log } }\n"},
		{name: "rules not a list", src: "rules: { name: x }\n"},
		{name: "empty actions", src: "rules: [{ name: r, actions: [] }]\n"},
		{name: "unknown action key", src: "rules: [{ name: r, actions: [{ sink: s, txt: x }] }]\n"},
		{name: "bad schema type", src: "schema: { extracted_variables: { q: integer } }\n"},
		{name: "unknown schema map", src: "schema: { lead: { q: string } }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(yamlToJSON(t, []byte(tt.src)))
			if (err == nil) != tt.valid {
				t.Errorf("schema valid = %v, want %v (%v)", err == nil, tt.valid, err)
			}
			if !tt.valid {
				return
			}
			if _, perr := Parse("f.yaml", []byte(tt.src), func(string) (string, bool) { return "", false }); perr != nil {
				if es, ok := perr.(Errors); !ok || hasSyntaxOrKeyError(es) {
					t.Errorf("the decoder rejects what the schema accepts: %v", perr)
				}
			}
		})
	}
}

// hasSyntaxOrKeyError reports a problem about the file's shape (syntax, unknown key, wrong kind),
// which the schema must agree on; other problems (a missing webhook_url) are beyond it.
func hasSyntaxOrKeyError(es Errors) bool {
	for _, e := range es {
		if strings.Contains(e.Msg, "invalid YAML") || strings.Contains(e.Msg, "unknown key") || strings.Contains(e.Msg, "must be a") {
			return true
		}
	}
	return false
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the sink key tables of docs/config.md from the sink types' descriptors")

// TestSinkTablesUpToDate checks that the key table of every sink type in docs/config.md is what its
// descriptor gives. After changing a descriptor's keys: go generate ./config.
func TestSinkTablesUpToDate(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	want, missing := WriteSinkTables(doc)
	for _, typ := range missing {
		t.Errorf("docs/config.md has no key table for sinks of type %s: under its section, write the lines\n%s\n%s\nthen run go generate ./config",
			typ, tableStart(typ), tableEnd(typ))
	}
	if *updateDocs {
		if err := os.WriteFile("../docs/config.md", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("the sink key tables of docs/config.md are out of date: run go generate ./config")
	}
}

// TestActionTableMatchesDescriptors checks the table of action keys in docs/config.md against the
// sink types' descriptors: a column per type (but the log, which takes every key), a row per action
// key, and a cell other than "—" exactly where the type takes the key.
func TestActionTableMatchesDescriptors(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc[bytes.Index(doc, []byte("### Actions")):])
	section = section[:strings.Index(section, "### Templates")]
	var header []string
	rows := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := tableCells(line)
		switch {
		case cells == nil || strings.Trim(cells[0], "- ") == "":
		case cells[0] == "key":
			header = cells
		default:
			rows[strings.Trim(cells[0], "`")] = cells
		}
	}
	var types []string
	for _, typ := range catalog.Types {
		if !typ.AcceptsAll {
			types = append(types, typ.Type)
		}
	}
	if len(header) < 2 || !slices.Equal(header[1:len(header)-1], types) {
		t.Fatalf("docs/config.md's action table has the columns %v, want key, %s, meaning", header, strings.Join(types, ", "))
	}
	all := map[string]bool{"sink": true}
	for _, k := range catalog.AllActionKeys() {
		all[k.Name] = true
		if rows[k.Name] == nil {
			t.Errorf("docs/config.md's action table has no row for %s", k.Name)
		}
	}
	for key, cells := range rows {
		if !all[key] {
			t.Errorf("docs/config.md's action table has a row for %s, which no sink type takes", key)
			continue
		}
		for i, typ := range types {
			takes := key == "sink" || slices.ContainsFunc(catalog.Lookup(typ).ActionKeys, func(k spec.ActionKey) bool { return k.Name == key })
			if cell := cells[i+1]; (cell != "—") != takes {
				t.Errorf("docs/config.md's action table says %q for %s in %s actions, but the type %s it", cell, key, typ,
					map[bool]string{true: "takes", false: "does not take"}[takes])
			}
		}
	}
}
