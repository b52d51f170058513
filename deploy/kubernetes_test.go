package deploy_test

import (
	"fmt"
	"path/filepath"
	"testing"
)

// kubeObjects returns every object of deploy/kubernetes by "Kind/name".
func kubeObjects(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	objs := map[string]map[string]any{}
	for _, f := range files {
		for _, d := range decodeAll(t, f) {
			key := fmt.Sprintf("%v/%v", d["kind"], get(d, "metadata", "name"))
			if d["apiVersion"] == nil || d["kind"] == nil || get(d, "metadata", "name") == nil {
				t.Errorf("%s: object %s lacks apiVersion, kind or metadata.name", f, key)
			}
			if _, dup := objs[key]; dup {
				t.Errorf("%s: %s defined twice", f, key)
			}
			objs[key] = d
		}
	}
	return objs
}

func TestKubernetes(t *testing.T) {
	objs := kubeObjects(t)
	secret := objs["Secret/switchboard"]
	if secret == nil {
		t.Fatal("no Secret/switchboard")
	}
	env := map[string]string{}
	for k, v := range get(secret, "stringData").(map[string]any) {
		env[k] = fmt.Sprint(v)
	}
	env["DATABASE_URL"] = "postgres://switchboard@postgres:5432/switchboard"
	for _, want := range []string{"Service/switchboard", "PodMonitor/switchboard"} {
		if objs[want] == nil {
			t.Errorf("no %s", want)
		}
	}
	if got := get(objs["PodMonitor/switchboard"], "spec", "podMetricsEndpoints", "0", "path"); got != "/metrics" {
		t.Errorf("PodMonitor path = %v, want /metrics", got)
	}
	if got := get(objs["Service/switchboard"], "spec", "ports", "0", "targetPort"); got != "http" {
		t.Errorf("Service targetPort = %v, want http", got)
	}

	tests := []struct {
		name     string
		workload string
		replicas int
		driver   string
		volume   bool
	}{
		{"one replica on SQLite", "StatefulSet/switchboard", 1, "sqlite", true},
		{"several replicas on PostgreSQL", "Deployment/switchboard", 3, "postgres", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := objs[tt.workload]
			if w == nil {
				t.Fatalf("no %s", tt.workload)
			}
			if got := get(w, "spec", "replicas"); got != tt.replicas {
				t.Errorf("replicas = %v, want %d", got, tt.replicas)
			}
			pod := get(w, "spec", "template", "spec")
			c := get(pod, "containers", "0")
			if get(c, "ports", "0", "name") != "http" || get(c, "ports", "0", "containerPort") != 8080 {
				t.Errorf("container port = %v, want http 8080", get(c, "ports", "0"))
			}
			for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
				if got := get(c, probe, "httpGet", "path"); got != path {
					t.Errorf("%s path = %v, want %s", probe, got, path)
				}
				if got := get(c, probe, "httpGet", "port"); got != "http" {
					t.Errorf("%s port = %v, want http", probe, got)
				}
			}
			if get(c, "resources", "requests", "cpu") == nil || get(c, "resources", "requests", "memory") == nil {
				t.Errorf("resources.requests = %v, want cpu and memory", get(c, "resources", "requests"))
			}
			if get(c, "envFrom", "0", "secretRef", "name") != "switchboard" {
				t.Errorf("envFrom = %v, want the switchboard Secret", get(c, "envFrom"))
			}
			cmName := fmt.Sprint(get(pod, "volumes", "0", "configMap", "name"))
			cm := objs["ConfigMap/"+cmName]
			if cm == nil {
				t.Fatalf("config volume names ConfigMap %q, which is not defined", cmName)
			}
			if get(c, "volumeMounts", "0", "mountPath") != "/etc/switchboard" {
				t.Errorf("config mounted at %v, want /etc/switchboard", get(c, "volumeMounts", "0", "mountPath"))
			}
			hasData := get(w, "spec", "volumeClaimTemplates", "0", "metadata", "name") == "data"
			if hasData != tt.volume {
				t.Errorf("data volume claim = %v, want %v", hasData, tt.volume)
			}
			if tt.volume && get(c, "volumeMounts", "1", "mountPath") != "/var/lib/switchboard" {
				t.Errorf("data mounted at %v, want /var/lib/switchboard", get(c, "volumeMounts", "1", "mountPath"))
			}
			content, _ := get(cm, "data", "switchboard.yaml").(string)
			checkConfig(t, "ConfigMap/"+cmName+"/switchboard.yaml", content, env)
			if got := get(decodeYAML(t, content), "storage", "driver"); got != tt.driver {
				t.Errorf("storage.driver = %v, want %s", got, tt.driver)
			}
		})
	}
}
