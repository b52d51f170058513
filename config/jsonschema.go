package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/switchboard-relay/switchboard/sinks/catalog"
)

// The JSON Schema of the config file (docs/config.schema.json), generated from the decoder's key
// tables (objectTables), the value kinds next to them (keySpecs) and the tables of docs/config.md
// for the descriptions. TestJSONSchemaUpToDate checks that the committed file is what this
// generates; `go generate ./config` (or `go test ./config -run TestJSONSchemaUpToDate
// -update-schema`) rewrites it.

//go:generate go test -run ^TestSinkTablesUpToDate$ -update-docs .
//go:generate go test -run ^TestJSONSchemaUpToDate$ -update-schema .

// envRef matches a value holding a ${VAR} or ${VAR:-default} reference: every value may be one,
// whatever its kind, since it is expanded before it is read.
const envRef = `\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`

// GenerateJSONSchema returns the config's JSON Schema (draft 2020-12), indented, with the
// descriptions taken from configDoc, the text of docs/config.md.
func GenerateJSONSchema(configDoc []byte) ([]byte, error) {
	g := &schemaGen{docs: docDescriptions(configDoc)}
	root := g.object("")
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "Switchboard configuration"
	root["description"] = "The YAML configuration of Switchboard, the relay for Intellixent's post-call webhook. Reference: docs/config.md. Every value may also be a ${VAR} or ${VAR:-default} reference to an environment variable."
	root["$defs"] = map[string]any{
		"env":  map[string]any{"type": "string", "pattern": envRef, "description": "A ${VAR} or ${VAR:-default} reference, expanded from the environment when the config is loaded."},
		"null": map[string]any{"type": "null", "description": "Absent: the default applies."},
	}
	if len(g.missing) > 0 {
		return nil, fmt.Errorf("keys without a keySpec: %s", strings.Join(g.missing, ", "))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return b.Bytes(), nil
}

type schemaGen struct {
	docs    map[string]string
	missing []string
}

func childPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	envSchema  = map[string]any{"$ref": "#/$defs/env"}
	nullSchema = map[string]any{"$ref": "#/$defs/null"}
)

// object is the schema of the mapping at path, whose keys are objectTables[path] (or those of
// the path its spec is like).
func (g *schemaGen) object(path string) map[string]any {
	tablePath := path
	if s, ok := keySpecs[path]; ok && s.like != "" {
		tablePath = s.like
	}
	props := map[string]any{}
	table := objectTables[tablePath]
	var keys []string
	if table != nil {
		keys = table()
	}
	for _, k := range keys {
		props[k] = g.value(childPath(path, k), childPath(tablePath, k))
	}
	out := map[string]any{"type": []string{"object", "null"}, "properties": props, "additionalProperties": false}
	if path == "sinks.*" {
		out["allOf"] = sinkTypeRules()
	}
	return out
}

// sinkTypeRules restrict a sink whose type is written plainly to the keys of that type; a sink
// whose type is a ${VAR} may hold the keys of any type, as a log sink does.
func sinkTypeRules() []any {
	var rules []any
	for _, t := range catalog.Types {
		if t.AcceptsAll {
			continue
		}
		keys := append(append([]string(nil), commonSinkKeys...), keyNames(t.Keys)...)
		rules = append(rules, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"type": map[string]any{"const": t.Type}}, "required": []string{"type"}},
			"then": map[string]any{"propertyNames": map[string]any{"enum": keys}},
		})
	}
	return rules
}

// value is the schema of the key at path; specPath is where its spec and docs are (they differ
// for a key of an object that is like another).
func (g *schemaGen) value(path, specPath string) map[string]any {
	s, ok := keySpecs[specPath]
	if !ok {
		g.missing = append(g.missing, specPath)
		return map[string]any{}
	}
	var out map[string]any
	switch s.kind {
	case kindObject:
		out = g.object(path)
	case kindMap:
		out = map[string]any{"type": []string{"object", "null"}, "additionalProperties": g.value(path+".*", specPath+".*")}
		if path == "sinks" {
			out["propertyNames"] = map[string]any{"pattern": namePattern.String()}
		}
	case kindList:
		items := g.value(path+"[]", specPath+"[]")
		out = map[string]any{"anyOf": []any{map[string]any{"type": "array", "items": items}, nullSchema}}
		if s.minItems > 0 {
			out["anyOf"].([]any)[0].(map[string]any)["minItems"] = s.minItems
		}
	default:
		out = scalarSchema(s)
	}
	if d := g.docs[specPath]; d != "" {
		out["description"] = d
	}
	return out
}

// scalarSchema is the schema of a single value of kind s: what the decoder accepts, a ${VAR}
// reference, or null (absent).
func scalarSchema(s keySpec) map[string]any {
	scalar := map[string]any{"type": []string{"string", "number", "boolean"}}
	var alts []any
	switch s.kind {
	case kindString, kindSecret, kindTemplate, kindExpr:
		alts = []any{scalar}
	case kindIdent:
		alts = []any{map[string]any{"type": "string", "pattern": namePattern.String()}, envSchema}
	case kindInteger:
		i := map[string]any{"type": "integer", "minimum": s.min}
		if s.max > 0 {
			i["maximum"] = s.max
		}
		alts = []any{i, map[string]any{"type": "string", "pattern": `^[0-9][0-9_]*$`}, envSchema}
	case kindBoolean:
		alts = []any{map[string]any{"type": "boolean"}, map[string]any{"enum": []string{"true", "True", "TRUE", "false", "False", "FALSE"}}, envSchema}
	case kindDuration:
		alts = []any{map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}, envSchema}
		if s.zero {
			alts = append(alts, map[string]any{"enum": []any{0, "0"}})
		}
	case kindSize:
		alts = []any{map[string]any{"type": "integer", "minimum": 1}, map[string]any{"type": "string", "pattern": `^ *[0-9]+ *([KkMmGg][Ii]?[Bb]|[Bb])? *$`}, envSchema}
	case kindRate:
		alts = []any{map[string]any{"type": "string", "pattern": `^ *[0-9]+ */ *([smh]|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+) *$`}, envSchema}
	case kindEnum:
		values := s.enum()
		alts = []any{map[string]any{"enum": values}, map[string]any{"type": "string", "pattern": caseInsensitive(values)}, envSchema}
	case kindAddresses:
		alts = []any{scalar, map[string]any{"type": "array", "items": scalar}}
	case kindTree:
		return map[string]any{}
	case kindFieldType:
		alts = []any{
			map[string]any{"enum": schemaFieldTypes},
			map[string]any{"type": "string", "pattern": caseInsensitive(schemaFieldTypes)},
			map[string]any{"type": "object", "required": []string{"enum"}, "additionalProperties": false,
				"properties": map[string]any{"enum": map[string]any{"type": "array", "minItems": 1, "uniqueItems": true, "items": scalar,
					"description": "The values the field may take, exactly as Intellixent sends them."}}},
			envSchema,
		}
	}
	return map[string]any{"anyOf": append(alts, nullSchema)}
}

// caseInsensitive is a pattern matching any of values in any case (JSON Schema patterns have no
// case-insensitive flag).
func caseInsensitive(values []string) string {
	alts := make([]string, len(values))
	for i, v := range values {
		var b strings.Builder
		for _, r := range v {
			lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
			if lo == up {
				b.WriteString(regexp.QuoteMeta(string(r)))
			} else {
				b.WriteString("[" + lo + up + "]")
			}
		}
		alts[i] = b.String()
	}
	return "^(" + strings.Join(alts, "|") + ")$"
}

var (
	docHeading = regexp.MustCompile("^#{2,3} `?([^`]*)`?\\s*$")
	docLink    = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// docSection maps a heading of docs/config.md to the config path its key tables describe, and the
// path its first paragraph describes ("" for none).
func docSection(heading string) (tables, para string, ok bool) {
	switch {
	case heading == "sinks":
		return "sinks.*", "sinks", true
	case strings.HasPrefix(heading, "type: "):
		return "sinks.*", "", true
	case heading == "rules":
		return "rules[]", "rules", true
	case heading == "Actions":
		return "rules[].actions[]", "rules[].actions", true
	case heading == "tests":
		return "tests[]", "tests", true
	case heading == "include":
		return "include[]", "include", true
	case objectTables[heading] != nil && heading != "":
		return heading, heading, true
	}
	return "", "", false
}

// docDescriptions reads the key tables of docs/config.md (a table whose first column is "key") into
// descriptions by path; the first paragraph under a section's heading describes the section.
func docDescriptions(md []byte) map[string]string {
	out := map[string]string{}
	section, paraPath, inTable := "", "", false
	var para []string
	flush := func() {
		if paraPath != "" && len(para) > 0 {
			out[paraPath] = strings.TrimSuffix(plainDoc(strings.Join(para, " ")), ":")
		}
		paraPath, para = "", nil
	}
	for _, line := range strings.Split(string(md), "\n") {
		if m := docHeading.FindStringSubmatch(line); m != nil {
			flush()
			section, inTable = "", false
			if t, p, ok := docSection(m[1]); ok {
				section, paraPath = t, p
			}
			continue
		}
		if section == "" {
			continue
		}
		cells := tableCells(line)
		switch {
		case cells == nil:
			inTable = false
			if paraPath != "" {
				if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "```") {
					if len(para) > 0 {
						flush()
					}
				} else {
					para = append(para, t)
				}
			}
		case cells[0] == "key":
			flush()
			inTable = true
		case !inTable || strings.Trim(cells[0], "- ") == "":
		default:
			path := childPath(section, strings.Trim(cells[0], "`"))
			if _, seen := out[path]; seen {
				continue
			}
			desc := strings.TrimSuffix(cells[len(cells)-1], ".")
			if len(cells) == 3 {
				switch def := cells[1]; def {
				case "required":
					desc += ". Required"
				case "none", "—", "always", "":
				default:
					desc += ". Default: " + def
				}
			}
			out[path] = plainDoc(desc)
		}
	}
	flush()
	return out
}

// tableCells splits a Markdown table row into trimmed cells; nil for a line that is not one.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") {
		return nil
	}
	parts := strings.Split(line[1:len(line)-1], " | ")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// plainDoc strips Markdown emphasis, code marks and links from a description.
func plainDoc(s string) string {
	s = docLink.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, "**", "")
	s = strings.ReplaceAll(s, "`", "")
	return strings.TrimSpace(s)
}

// schemaKeyPaths returns every path of the tables, for tests: each must have a keySpec.
func schemaKeyPaths() []string {
	var out []string
	for path, table := range objectTables {
		for _, k := range table() {
			out = append(out, childPath(path, k))
		}
	}
	sort.Strings(out)
	return out
}
