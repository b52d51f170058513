package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDashboardDatasource: docs/grafana-dashboard.json chooses its Prometheus through a datasource
// template variable, so the same file works imported (the variable offers every Prometheus) and
// provisioned (the variable takes the default one), with no import-time ${DS_…} input to fill.
func TestDashboardDatasource(t *testing.T) {
	data, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	if _, ok := dash["__inputs"]; ok || strings.Contains(string(data), "${DS_") {
		t.Error("the dashboard has an import-time input (__inputs, ${DS_…}), which provisioning does not fill")
	}
	vars, _ := get(dash, "templating", "list").([]any)
	found := false
	for _, v := range vars {
		if get(v, "name") == "datasource" && get(v, "type") == "datasource" && get(v, "query") == "prometheus" {
			found = true
		}
	}
	if !found {
		t.Fatal("templating.list has no variable named datasource of type datasource with query prometheus")
	}
	// Every datasource reference but Grafana's own annotations must be the variable.
	refs := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch n := v.(type) {
		case map[string]any:
			if ds, ok := n["datasource"].(map[string]any); ok && ds["type"] != "grafana" {
				refs++
				if ds["uid"] != "${datasource}" {
					t.Errorf("%s.datasource = %v, want uid ${datasource}", path, ds)
				}
			}
			for k, c := range n {
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range n {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("dashboard", dash)
	if refs == 0 {
		t.Error("no datasource reference found: the walk is broken")
	}
	for _, p := range get(dash, "panels").([]any) {
		if get(p, "type") != "row" && get(p, "datasource") == nil {
			t.Errorf("panel %v has no datasource", get(p, "title"))
		}
	}
}
