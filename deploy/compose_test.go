package deploy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompose(t *testing.T) {
	docs := decodeAll(t, "compose/compose.yaml")
	services, _ := get(docs[0], "services").(map[string]any)
	var names []string
	for n := range services {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"grafana", "mailpit", "prometheus", "switchboard"}) {
		t.Fatalf("services = %q, want grafana, mailpit, prometheus, switchboard", names)
	}
	t.Run("bind mounts exist", func(t *testing.T) {
		for name, svc := range services {
			vols, _ := get(svc, "volumes").([]any)
			for _, v := range vols {
				src, dst, _ := strings.Cut(v.(string), ":")
				if !strings.HasPrefix(src, ".") {
					continue // a named volume
				}
				if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
				if !strings.HasPrefix(dst, "/") {
					t.Errorf("service %s mounts at %q, want an absolute path", name, dst)
				}
			}
		}
	})
	t.Run("prometheus loads the shipped alerts and scrapes switchboard", func(t *testing.T) {
		prom := decodeAll(t, "compose/prometheus.yml")[0]
		if got := get(prom, "rule_files", "0"); got != "alerts.yaml" {
			t.Errorf("rule_files[0] = %v, want alerts.yaml (mounted from docs/alerts.yaml)", got)
		}
		vols, _ := get(services["prometheus"], "volumes").([]any)
		if !slices.Contains(vols, any("../../docs/alerts.yaml:/etc/prometheus/alerts.yaml:ro")) {
			t.Errorf("prometheus volumes = %q, want docs/alerts.yaml beside prometheus.yml", vols)
		}
		if got := get(prom, "scrape_configs", "0", "static_configs", "0", "targets", "0"); got != "switchboard:8080" {
			t.Errorf("scrape target = %v, want switchboard:8080", got)
		}
	})
	t.Run("grafana provisions the dashboard file as is, on the default prometheus", func(t *testing.T) {
		ds := decodeAll(t, "compose/grafana/provisioning/datasources/prometheus.yaml")[0]
		if get(ds, "datasources", "0", "type") != "prometheus" || get(ds, "datasources", "0", "isDefault") != true ||
			get(ds, "datasources", "0", "url") != "http://prometheus:9090" {
			t.Errorf("datasource = %v, want the default one, of type prometheus", get(ds, "datasources", "0"))
		}
		if e := get(services["grafana"], "entrypoint"); e != nil {
			t.Errorf("grafana entrypoint = %v: the dashboard needs no rewriting", e)
		}
		prov := decodeAll(t, "compose/grafana/provisioning/dashboards/switchboard.yaml")[0]
		dir, _ := get(prov, "providers", "0", "options", "path").(string)
		vols, _ := get(services["grafana"], "volumes").([]any)
		if want := "../../docs/grafana-dashboard.json:" + dir + "/switchboard.json:ro"; dir == "" || !slices.Contains(vols, any(want)) {
			t.Errorf("grafana volumes = %q, want %q (the provider's folder)", vols, want)
		}
	})
	t.Run("switchboard config passes check and mails mailpit", func(t *testing.T) {
		data, err := os.ReadFile("compose/switchboard.yaml")
		if err != nil {
			t.Fatal(err)
		}
		checkConfig(t, "compose/switchboard.yaml", string(data), map[string]string{"SWITCHBOARD_TOKEN": "t"})
		cfg := decodeAll(t, "compose/switchboard.yaml")[0]
		if get(cfg, "sinks", "sales-email", "smtp", "host") != "mailpit" {
			t.Errorf("sales-email smtp host = %v, want mailpit", get(cfg, "sinks", "sales-email", "smtp", "host"))
		}
	})
}
