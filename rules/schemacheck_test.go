package rules

import (
	"reflect"
	"testing"

	"github.com/switchboard-relay/switchboard/config"
)

// TestSchemaWarnings checks what compiles but is reported as a warning, and that a config without
// a schema gets no schema findings on its maps.
func TestSchemaWarnings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{name: "unknown status", src: `
sinks: { ops: { type: log } }
rules:
  - name: a
    when: status in ["no-answer", "faild"] || status == "completed"
    actions: [{ sink: ops, text: x }]
`, want: []string{
			`f.yaml:5: rules[0].when: warning: status "no-answer" is not one of the statuses Intellixent documents ("completed", "busy" or "failed")`,
			`f.yaml:5: rules[0].when: warning: status "faild" is not one of the statuses Intellixent documents ("completed", "busy" or "failed") (did you mean "failed"?)`,
		}},
		{name: "unknown status in a template", src: `
sinks: { ops: { type: log } }
rules:
  - name: a
    actions: [{ sink: ops, text: "{{ status == 'voicemail' ? 'vm' : status }}" }]
`, want: []string{
			`f.yaml:5: rules[0].actions[0].text: warning: status "voicemail" is not one of the statuses Intellixent documents ("completed", "busy" or "failed") in "{{ status == 'voicemail' ? 'vm' : status }}"`,
		}},
		{name: "no schema, no checks on the maps", src: `
sinks: { ops: { type: log } }
rules:
  - name: a
    when: extracted_variables.anything == "x" && input_variables.n > "5" && status != "busy"
    actions: [{ sink: ops, text: "{{ extracted_variables.whatever }}" }]
`},
		{name: "an undeclared map is not checked", src: `
schema:
  input_variables: { name: string }
sinks: { ops: { type: log } }
rules:
  - name: a
    when: extracted_variables.anything == "x" && input_variables.name == "Jane"
    actions: [{ sink: ops, text: x }]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("f.yaml", []byte(tt.src), nil)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if _, err := Compile(cfg); err != nil {
				t.Fatalf("Compile = %v, want no problem (warnings only)", err)
			}
			// A second compile of the same config (check, then test) must not repeat them.
			if _, err := Compile(cfg); err != nil {
				t.Fatalf("second Compile = %v", err)
			}
			var got []string
			for _, w := range cfg.Warnings {
				if !w.Warning {
					t.Errorf("%v: Warning not set", w)
				}
				got = append(got, w.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
