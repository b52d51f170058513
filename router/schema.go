package router

import (
	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
)

// checkSchema counts and logs at warn level every way the call's variables do not fit the
// config's declared schema (`schema:`). The call is accepted regardless: a mismatch shows that the
// assistant's extraction schema changed, it is not a reason to lose the call. Neither the log nor
// the metric holds a value from the call.
func (r *Router) checkSchema(s *config.Schema, c *call.Call) {
	if s == nil {
		return
	}
	maps := []struct {
		name string
		vars map[string]any
	}{
		{"extracted_variables", c.ExtractedVariables},
		{"input_variables", c.InputVariables},
	}
	for _, m := range maps {
		for _, mm := range s.Check(m.name, m.vars) {
			r.opts.Metrics.SchemaMismatches.WithLabelValues(mm.Field).Inc()
			r.log.Warn("call does not fit the declared schema", "call_id", c.ID, "field", mm.Field, "problem", mm.Problem)
		}
	}
}

// schemaFields are the values of switchboard_schema_mismatches_total's field label for a schema:
// every declared field as "map.key", and "undeclared".
func schemaFields(s *config.Schema) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, name := range config.SchemaMaps {
		if v := s.Map(name); v != nil {
			for _, f := range v.Fields {
				out = append(out, name+"."+f.Name)
			}
		}
	}
	return append(out, config.Undeclared)
}
