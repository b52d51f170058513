// Package deploy holds no Go code: its tests check the files shipped for running Switchboard under
// systemd, Docker Compose and Kubernetes, as far as this machine allows.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/relay"
)

// decodeAll decodes every YAML document of the file at path into generic maps.
func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// get walks a decoded YAML tree by map keys and list indexes ("0", "1", ...).
func get(v any, path ...string) any {
	for _, k := range path {
		switch n := v.(type) {
		case map[string]any:
			v = n[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(n) {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

// checkConfig runs a Switchboard config through the same loading and validation as `switchboard check`
// with env set, and requires its SQLite path (when used) to be absolute.
func checkConfig(t *testing.T, name, content string, env map[string]string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(name))
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := relay.Load(p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("%s does not pass check:\n%v", name, err)
	}
	st := loaded.Runtime.Config.Storage
	if st.Driver == "sqlite" && !filepath.IsAbs(st.Path) {
		t.Errorf("%s: storage.path %q is relative; deploy/ uses absolute paths for data", name, st.Path)
	}
}

// walkFiles returns every file under dir with one of exts.
func walkFiles(t *testing.T, dir string, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, e := range exts {
			if !d.IsDir() && strings.HasSuffix(p, e) {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryYAMLFileParses(t *testing.T) {
	files := walkFiles(t, ".", ".yaml", ".yml")
	if len(files) < 8 {
		t.Fatalf("found %d YAML files under deploy/, want the compose and kubernetes files: %q", len(files), files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			if docs := decodeAll(t, f); len(docs) == 0 {
				t.Errorf("%s holds no YAML document", f)
			}
		})
	}
}

// decodeYAML decodes one YAML document held in a string.
func decodeYAML(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
