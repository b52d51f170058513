package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// goreleaserConfig is the part of .goreleaser.yaml this test checks.
type goreleaserConfig struct {
	Version int `yaml:"version"`
	Builds  []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Env     []string `yaml:"env"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		Files []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
	} `yaml:"checksum"`
	Dockers []struct {
		Goos           string   `yaml:"goos"`
		Goarch         string   `yaml:"goarch"`
		Dockerfile     string   `yaml:"dockerfile"`
		ImageTemplates []string `yaml:"image_templates"`
		ExtraFiles     []string `yaml:"extra_files"`
	} `yaml:"dockers"`
	DockerManifests []struct {
		NameTemplate   string   `yaml:"name_template"`
		ImageTemplates []string `yaml:"image_templates"`
	} `yaml:"docker_manifests"`
}

func TestGoreleaserConfig(t *testing.T) {
	data, err := os.ReadFile(repoFile(".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserConfig
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("parse .goreleaser.yaml: %v", err)
	}
	if cfg.Version != 2 {
		t.Errorf("version = %d, want 2 (goreleaser v2 schema)", cfg.Version)
	}
	if len(cfg.Builds) != 1 {
		t.Fatalf("builds = %d, want 1", len(cfg.Builds))
	}
	b := cfg.Builds[0]
	t.Run("targets", func(t *testing.T) {
		if b.Main != "./cmd/switchboard" {
			t.Errorf("main = %q, want ./cmd/switchboard", b.Main)
		}
		if !slices.Contains(b.Env, "CGO_ENABLED=0") {
			t.Errorf("env = %q, want CGO_ENABLED=0 (static binaries)", b.Env)
		}
		goos, goarch := slices.Sorted(slices.Values(b.Goos)), slices.Sorted(slices.Values(b.Goarch))
		if !slices.Equal(goos, []string{"darwin", "linux", "windows"}) {
			t.Errorf("goos = %q, want darwin, linux, windows", goos)
		}
		if !slices.Equal(goarch, []string{"amd64", "arm64"}) {
			t.Errorf("goarch = %q, want amd64, arm64", goarch)
		}
	})
	t.Run("ldflags stamp variables that exist", func(t *testing.T) {
		vars := mainStringVars(t)
		stamped := map[string]string{}
		for _, m := range regexp.MustCompile(`-X main\.(\w+)=(\{\{[^}]*\}\}|\S+)`).FindAllStringSubmatch(strings.Join(b.Ldflags, " "), -1) {
			stamped[m[1]] = m[2]
		}
		for name, want := range map[string]string{"version": "{{ .Version }}", "commit": "{{ .Commit }}"} {
			if stamped[name] != want {
				t.Errorf("ldflags stamp main.%s = %q, want %q", name, stamped[name], want)
			}
		}
		for name := range stamped {
			if !vars[name] {
				t.Errorf("ldflags stamp main.%s, which cmd/switchboard does not declare as a string var", name)
			}
		}
	})
	t.Run("checksums", func(t *testing.T) {
		if cfg.Checksum.NameTemplate == "" {
			t.Error("checksum.name_template is empty")
		}
	})
	t.Run("archive files exist", func(t *testing.T) {
		for _, a := range cfg.Archives {
			for _, f := range a.Files {
				// goreleaser's ** is any depth; filepath.Glob's * is one level, enough to find a match.
				m, err := filepath.Glob(repoFile(strings.ReplaceAll(f, "**", "*")))
				if err != nil || len(m) == 0 {
					t.Errorf("archive file %q matches nothing", f)
				}
			}
		}
	})
	t.Run("multi-arch image", func(t *testing.T) {
		images := map[string]bool{}
		var arches []string
		for _, d := range cfg.Dockers {
			if d.Goos != "linux" {
				t.Errorf("docker image for goos %q, want linux", d.Goos)
			}
			arches = append(arches, d.Goarch)
			if _, err := os.Stat(repoFile(d.Dockerfile)); err != nil {
				t.Errorf("dockerfile: %v", err)
			}
			for _, f := range d.ExtraFiles {
				if _, err := os.Stat(repoFile(f)); err != nil {
					t.Errorf("extra file: %v", err)
				}
			}
			for _, img := range d.ImageTemplates {
				images[img] = true
			}
		}
		if slices.Sort(arches); !slices.Equal(arches, []string{"amd64", "arm64"}) {
			t.Errorf("images for %q, want amd64 and arm64", arches)
		}
		if len(cfg.DockerManifests) == 0 {
			t.Fatal("no docker_manifests: the image would not be multi-arch")
		}
		for _, m := range cfg.DockerManifests {
			if len(m.ImageTemplates) != len(images) {
				t.Errorf("manifest %s joins %d images, want all %d", m.NameTemplate, len(m.ImageTemplates), len(images))
			}
			for _, img := range m.ImageTemplates {
				if !images[img] {
					t.Errorf("manifest %s names %s, which no docker entry builds", m.NameTemplate, img)
				}
			}
		}
	})
}

// mainStringVars returns the package-level string variables of package main in this folder (what
// -ldflags -X can set).
func mainStringVars(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	vars := map[string]bool{}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					isString := false
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						isString = true
					} else if vs.Type == nil && i < len(vs.Values) {
						lit, ok := vs.Values[i].(*ast.BasicLit)
						isString = ok && lit.Kind == token.STRING
					}
					if isString {
						vars[n.Name] = true
					}
				}
			}
		}
	}
	return vars
}
