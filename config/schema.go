package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Field types of a `schema:` declaration.
const (
	TypeString  = "string"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	TypeEnum    = "enum"
)

// SchemaMaps are the call's maps a `schema:` may declare, in the order they are documented.
var SchemaMaps = []string{"extracted_variables", "input_variables"}

// schemaFieldTypes are the types a declared field may take, besides `{ enum: [...] }`.
var schemaFieldTypes = []string{TypeString, TypeNumber, TypeBoolean}

// Schema is the `schema:` section: the keys and value types the call's variable maps are expected
// to hold, mirroring the post-call extraction schema set up in Intellixent. A map that is not
// declared is not checked.
type Schema struct {
	// Maps holds the declared maps by name ("extracted_variables", "input_variables").
	Maps map[string]*VarSchema
}

// VarSchema is the declaration of one map of the call.
type VarSchema struct {
	Name string
	Line int
	// Fields are the declared keys in file order.
	Fields []*Field
}

// Field is one declared key of a map.
type Field struct {
	Name string
	Line int
	// Type is TypeString, TypeNumber, TypeBoolean or TypeEnum.
	Type string
	// Enum lists the allowed values of a TypeEnum field, as written.
	Enum []string
}

// Map returns the declaration of the named map, or nil when it is not declared (s may be nil).
func (s *Schema) Map(name string) *VarSchema {
	if s == nil {
		return nil
	}
	return s.Maps[name]
}

// Field returns the declared field with the given name, or nil.
func (v *VarSchema) Field(name string) *Field {
	for _, f := range v.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Names returns the declared keys in file order.
func (v *VarSchema) Names() []string {
	names := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		names[i] = f.Name
	}
	return names
}

// Describe says what the field holds, for messages: "a number", "one of "high", "medium" or "low"".
func (f *Field) Describe() string {
	switch f.Type {
	case TypeEnum:
		return "one of " + quoteList(f.Enum, "or")
	case TypeNumber:
		return "a number"
	case TypeBoolean:
		return "true or false"
	}
	return "a string"
}

// Mismatch is one way a call's variables do not fit the schema. Field is the declared key as
// "map.key", or "undeclared" for a key the schema does not declare (the metric label never holds
// anything from the call); Problem says what is wrong, naming the key but never the call's value
// (values are personal data and must not reach logs or metrics).
type Mismatch struct {
	Field   string
	Problem string
}

// Undeclared is Mismatch.Field for a key the schema does not declare.
const Undeclared = "undeclared"

// Check returns how the named map of a call (vars) does not fit its declaration, in key order. A
// declared key that is absent or null fits: the AI may leave it out. Nothing is returned when the
// map is not declared.
func (s *Schema) Check(name string, vars map[string]any) []Mismatch {
	v := s.Map(name)
	if v == nil {
		return nil
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Mismatch
	for _, k := range keys {
		val := vars[k]
		f := v.Field(k)
		if f == nil {
			out = append(out, Mismatch{Field: Undeclared, Problem: fmt.Sprintf("key %q of %s is not declared in schema.%s", k, name, name)})
			continue
		}
		if val == nil || f.fits(val) {
			continue
		}
		out = append(out, Mismatch{Field: name + "." + k, Problem: fmt.Sprintf("must be %s, got %s", f.Describe(), jsonKind(val))})
	}
	return out
}

// fits reports whether a decoded JSON value fits the field's type.
func (f *Field) fits(v any) bool {
	switch f.Type {
	case TypeString:
		_, ok := v.(string)
		return ok
	case TypeNumber:
		switch n := v.(type) {
		case float64:
			return !math.IsNaN(n)
		case int, int64, float32:
			return true
		}
		return false
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeEnum:
		switch x := v.(type) {
		case string:
			return contains(f.Enum, x)
		case float64:
			// An enum of numbers is written [1, 2, 3]: compare the number as it reads.
			return contains(f.Enum, strconv.FormatFloat(x, 'f', -1, 64))
		case bool:
			return contains(f.Enum, strconv.FormatBool(x))
		}
		return false
	}
	return true
}

// jsonKind names the kind of a decoded JSON value without showing it; a string is "another value"
// for an enum, so that the value itself never appears.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, float32, int, int64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "another value"
}

// schema reads the `schema:` section; nil when it is absent.
func (d *decoder) schema(top *object) *Schema {
	if !top.has("schema") {
		return nil
	}
	o := d.sub(top, "schema", SchemaMaps)
	if o.bad {
		return nil
	}
	s := &Schema{Maps: map[string]*VarSchema{}}
	for _, name := range o.order {
		m := d.sub(o, name, nil)
		if m.bad {
			continue
		}
		v := &VarSchema{Name: name, Line: o.keys[name].Line}
		for _, key := range m.order {
			if f := d.schemaField(m, key); f != nil {
				v.Fields = append(v.Fields, f)
			}
		}
		s.Maps[name] = v
	}
	return s
}

// schemaField reads one declared key: a type name, or `{ enum: [...] }`.
func (d *decoder) schemaField(m *object, key string) *Field {
	f := &Field{Name: key, Line: m.keys[key].Line}
	n := resolve(m.vals[key])
	path := m.at(key)
	want := "must be " + quoteList(append(append([]string(nil), schemaFieldTypes...), "{ enum: [...] }"), "or")
	switch {
	case isNull(n):
		d.errorf(f.Line, path, "%s, got nothing", want)
		return nil
	case n.Kind == yaml.ScalarNode:
		v := d.expandNode(n, path)
		t := strings.ToLower(v)
		if !contains(schemaFieldTypes, t) {
			hint, _ := suggest(t, schemaFieldTypes)
			if strings.HasPrefix(hint, " (did") {
				d.errorf(n.Line, path, "%s, got %q%s", want, v, hint)
			} else {
				d.errorf(n.Line, path, "%s, got %q", want, v)
			}
			return nil
		}
		f.Type = t
		return f
	case n.Kind == yaml.MappingNode:
		o := d.object(n, path, f.Line, []string{"enum"})
		if o.bad {
			return nil
		}
		list := resolve(o.vals["enum"])
		if isNull(list) {
			d.missing(o, "enum", "the values the field may take, e.g. enum: [high, medium, low]")
			return nil
		}
		if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
			d.errorf(list.Line, o.at("enum"), "must be a list of at least one value, e.g. [high, medium, low]")
			return nil
		}
		f.Type = TypeEnum
		for i, item := range list.Content {
			ip := fmt.Sprintf("%s[%d]", o.at("enum"), i)
			v, ok := d.scalarNode(item, ip)
			if !ok {
				continue
			}
			if contains(f.Enum, v) {
				d.errorf(resolve(item).Line, ip, "value %q repeated", v)
				continue
			}
			f.Enum = append(f.Enum, v)
		}
		return f
	default:
		d.errorf(n.Line, path, "%s, got %s", want, kindName(n))
		return nil
	}
}
