package router

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

const schemaConfig = `
sinks:
  chat: { type: log }
schema:
  extracted_variables:
    lead_quality: { enum: [high, medium, low] }
    score: number
    summary: string
  input_variables:
    customer_name: string
rules:
  - name: all
    actions: [{ sink: chat, text: "{{ id }}" }]
`

// TestIngestSchemaMismatches checks that a call whose variables do not fit the declared schema is
// accepted, counted by field and logged at warn level without any value from the call.
func TestIngestSchemaMismatches(t *testing.T) {
	tests := []struct {
		name string
		body string
		// want is the increase of each field's series; a field not named must stay at zero.
		want    map[string]float64
		wantLog []string
	}{
		{name: "fits", body: `{"id": 1, "status": "completed", "extracted_variables": {"lead_quality": "high", "score": 7, "summary": "ok"}, "input_variables": {"customer_name": "Jane"}}`},
		{name: "null and absent fit", body: `{"id": 2, "extracted_variables": {"lead_quality": null}}`},
		{name: "value outside the enum", body: `{"id": 3, "extracted_variables": {"lead_quality": "SECRET-VALUE"}}`,
			want:    map[string]float64{"extracted_variables.lead_quality": 1},
			wantLog: []string{`level=WARN`, `field=extracted_variables.lead_quality`, `one of \"high\", \"medium\" or \"low\", got a string`}},
		{name: "wrong types", body: `{"id": 4, "extracted_variables": {"score": "7", "summary": 3}, "input_variables": {"customer_name": true}}`,
			want: map[string]float64{"extracted_variables.score": 1, "extracted_variables.summary": 1, "input_variables.customer_name": 1}},
		{name: "undeclared keys", body: `{"id": 5, "extracted_variables": {"lead_score": 3}, "input_variables": {"product": "SECRET-VALUE"}}`,
			want:    map[string]float64{config.Undeclared: 2},
			wantLog: []string{`field=undeclared`, `key \"lead_score\" of extracted_variables is not declared`}},
	}
	fields := []string{"extracted_variables.lead_quality", "extracted_variables.score", "extracted_variables.summary", "input_variables.customer_name", config.Undeclared}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("test.yaml", []byte(schemaConfig), nil)
			if err != nil {
				t.Fatalf("parse config: %v", err)
			}
			rs, err := rules.Compile(cfg)
			if err != nil {
				t.Fatalf("compile rules: %v", err)
			}
			st, err := sqlite.Open(filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
			if err != nil {
				t.Fatalf("open store: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			rt := &Runtime{Config: cfg, Rules: rs}
			reg := prometheus.NewRegistry()
			m := NewMetrics(reg)
			m.InitializeFor(rt)
			var logs bytes.Buffer
			r := New(Options{Runtime: func() *Runtime { return rt }, Store: st, Metrics: m,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			srv := httptest.NewServer(r)
			t.Cleanup(srv.Close)

			if got := testutil.CollectAndCount(m.SchemaMismatches); got != len(fields) {
				t.Errorf("series before any call = %d, want %d (every declared field and undeclared at zero)", got, len(fields))
			}
			resp, err := http.Post(srv.URL+config.DefaultWebhookPath, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatalf("post: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status = %d, want 202: a mismatch never rejects a call", resp.StatusCode)
			}
			for _, f := range fields {
				if got := testutil.ToFloat64(m.SchemaMismatches.WithLabelValues(f)); got != tt.want[f] {
					t.Errorf("switchboard_schema_mismatches_total{field=%q} = %v, want %v", f, got, tt.want[f])
				}
			}
			out := logs.String()
			for _, w := range tt.wantLog {
				if !strings.Contains(out, w) {
					t.Errorf("log lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "SECRET-VALUE") {
				t.Errorf("log shows a value from the call:\n%s", out)
			}
			if len(tt.want) == 0 && strings.Contains(out, "schema") {
				t.Errorf("log mentions the schema for a call that fits:\n%s", out)
			}
		})
	}
}
