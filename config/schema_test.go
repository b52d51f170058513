package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestSchemaParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // problems, "line: path: msg"
		// fields is what the schema declares when there is no problem: map.key:type[:enum values].
		fields []string
	}{
		{name: "every type", src: `
schema:
  extracted_variables:
    lead_quality: { enum: [high, medium, low] }
    summary: string
    score: Number
    interested: boolean
  input_variables:
    customer_name: string
`, fields: []string{
			"extracted_variables.lead_quality:enum:high,medium,low", "extracted_variables.summary:string",
			"extracted_variables.score:number", "extracted_variables.interested:boolean", "input_variables.customer_name:string",
		}},
		{name: "only one map", src: "schema:\n  input_variables:\n    name: string\n", fields: []string{"input_variables.name:string"}},
		{name: "unknown map", src: "schema:\n  extracted_variable:\n    a: string\n", want: []string{
			`2: schema.extracted_variable: unknown key (did you mean "extracted_variables"?)`,
		}},
		{name: "unknown type", src: "schema:\n  extracted_variables:\n    a: strng\n    b: int\n", want: []string{
			`3: schema.extracted_variables.a: must be "string", "number", "boolean" or "{ enum: [...] }", got "strng" (did you mean "string"?)`,
			`4: schema.extracted_variables.b: must be "string", "number", "boolean" or "{ enum: [...] }", got "int"`,
		}},
		{name: "empty type", src: "schema:\n  extracted_variables:\n    a:\n", want: []string{
			`3: schema.extracted_variables.a: must be "string", "number", "boolean" or "{ enum: [...] }", got nothing`,
		}},
		{name: "bad enums", src: "schema:\n  extracted_variables:\n    a: { enum: [] }\n    b: { enum: high }\n    c: { enum: [x, x] }\n    d: { values: [x] }\n    e: [x, y]\n", want: []string{
			`3: schema.extracted_variables.a.enum: must be a list of at least one value, e.g. [high, medium, low]`,
			`4: schema.extracted_variables.b.enum: must be a list of at least one value, e.g. [high, medium, low]`,
			`5: schema.extracted_variables.c.enum[1]: value "x" repeated`,
			`6: schema.extracted_variables.d.values: unknown key (known keys: "enum")`,
			`6: schema.extracted_variables.d: missing required key "enum" (the values the field may take, e.g. enum: [high, medium, low])`,
			`7: schema.extracted_variables.e: must be "string", "number", "boolean" or "{ enum: [...] }", got a list`,
		}},
		{name: "not a mapping", src: "schema: [a]\n", want: []string{
			`1: schema: must be a mapping of keys to values, got a list`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f.yaml", []byte(tt.src), nil)
			var got []string
			if err != nil {
				for _, e := range err.(Errors) {
					got = append(got, strings.TrimPrefix(e.Error(), "f.yaml:"))
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("problems:\n got %q\nwant %q", got, tt.want)
			}
			if tt.want != nil {
				return
			}
			var fields []string
			for _, name := range SchemaMaps {
				if v := cfg.Schema.Map(name); v != nil {
					for _, f := range v.Fields {
						s := name + "." + f.Name + ":" + f.Type
						if f.Enum != nil {
							s += ":" + strings.Join(f.Enum, ",")
						}
						fields = append(fields, s)
					}
				}
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("fields:\n got %q\nwant %q", fields, tt.fields)
			}
		})
	}
}

func TestSchemaAbsent(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte("sinks: {}\n"), nil)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if cfg.Schema != nil {
		t.Errorf("Schema = %+v, want nil without schema:", cfg.Schema)
	}
	if got := cfg.Schema.Check("extracted_variables", map[string]any{"anything": 1}); got != nil {
		t.Errorf("Check without a schema = %v, want nothing", got)
	}
}

func TestSchemaCheck(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(`
schema:
  extracted_variables:
    q: { enum: [high, low] }
    n: number
    s: string
    b: boolean
    level: { enum: [1, 2, 3] }
`), nil)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	tests := []struct {
		name string
		map_ string
		vars map[string]any
		want []Mismatch
	}{
		{name: "fits", map_: "extracted_variables", vars: map[string]any{"q": "high", "n": 2.5, "s": "x", "b": false}},
		{name: "numbers in a number enum", map_: "extracted_variables", vars: map[string]any{"level": 2.0}},
		{name: "number outside a number enum", map_: "extracted_variables", vars: map[string]any{"level": 2.5},
			want: []Mismatch{{Field: "extracted_variables.level", Problem: `must be one of "1", "2" or "3", got a number`}}},
		{name: "nulls fit", map_: "extracted_variables", vars: map[string]any{"q": nil, "n": nil}},
		{name: "undeclared map is not checked", map_: "input_variables", vars: map[string]any{"x": 1}},
		{name: "each problem", map_: "extracted_variables", vars: map[string]any{"q": "High", "n": "2", "s": 1.0, "b": "true", "z": []any{}},
			want: []Mismatch{
				{Field: "extracted_variables.b", Problem: "must be true or false, got a string"},
				{Field: "extracted_variables.n", Problem: "must be a number, got a string"},
				{Field: "extracted_variables.q", Problem: `must be one of "high" or "low", got a string`},
				{Field: "extracted_variables.s", Problem: "must be a string, got a number"},
				{Field: Undeclared, Problem: `key "z" of extracted_variables is not declared in schema.extracted_variables`},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cfg.Schema.Check(tt.map_, tt.vars); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
