package config

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestTemplateTreeMergesAndRepeats checks body and blocks structures: merge keys are spliced in
// with explicit keys winning, and a repeated key is an error, as everywhere else in the config.
func TestTemplateTreeMergesAndRepeats(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantBody map[string]any
		wantErr  string
	}{
		{name: "merge, explicit key wins", body: `{<<: *common, phone: "{{ customer_phone }}", v: 2}`,
			wantBody: map[string]any{"source": "intellixent", "v": 2, "phone": "{{ customer_phone }}"}},
		{name: "merge of a list", body: `{<<: [*common, {extra: yes}], v: 3}`,
			wantBody: map[string]any{"source": "intellixent", "v": 3, "extra": "yes"}},
		{name: "repeated key", body: `{a: 1, a: "{{ id }}"}`,
			wantErr: `t.yaml:7: rules[1].actions[0].body.a: key repeated (first on line 7)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yml := `sinks: {w: {type: webhook, url: "https://crm.example.com/x"}}
rules:
  - name: r
    actions: [{sink: w, body: &common {source: intellixent, v: 1}}]
  - name: r2
    actions:
      - {sink: w, body: ` + tt.body + `}
`
			cfg, err := Parse("t.yaml", []byte(yml), nil)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := cfg.Rules[1].Actions[0].Value("body").Tree.Decode(&got); err != nil {
				t.Fatal(err)
			}
			gotYAML, _ := yaml.Marshal(got)
			wantYAML, _ := yaml.Marshal(tt.wantBody)
			if string(gotYAML) != string(wantYAML) {
				t.Errorf("body = %s, want %s", strings.TrimSpace(string(gotYAML)), strings.TrimSpace(string(wantYAML)))
			}
		})
	}
}
