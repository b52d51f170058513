package config

import (
	"path/filepath"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks/email"
)

func TestResolvePath(t *testing.T) {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	root := filepath.Join(t.TempDir(), "etc")
	tests := []struct {
		name, file, p, want string
	}{
		{"relative to an absolute config's folder", filepath.Join(root, "sb.yaml"), "./data/x.db", filepath.Join(root, "data", "x.db")},
		{"parent folders", filepath.Join(root, "sb.yaml"), "../ca.pem", filepath.Join(filepath.Dir(root), "ca.pem")},
		{"relative config file", filepath.Join("..", "c.yaml"), "data/x.db", abs(filepath.Join("..", "data", "x.db"))},
		{"config in the working directory", "sb.yaml", "x.db", abs("x.db")},
		{"absolute stays", filepath.Join(root, "sb.yaml"), filepath.Join(root, "other", "x.db"), filepath.Join(root, "other", "x.db")},
		{"empty stays empty", filepath.Join(root, "sb.yaml"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolvePath(tt.file, tt.p); got != tt.want {
				t.Errorf("ResolvePath(%q, %q) = %q, want %q", tt.file, tt.p, got, tt.want)
			}
		})
	}
}

// TestFileKeysFollowTheConfigFile checks every file key of the config, and the default storage
// path, against the folder of the file they are written in.
func TestFileKeysFollowTheConfigFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	file := filepath.Join(dir, "sb.yaml")
	tests := []struct {
		name string
		yaml string
		got  func(*Config) string
		want string
	}{
		{"storage.path", "storage: {path: ./state/sb.db}\n",
			func(c *Config) string { return c.Storage.Path }, filepath.Join(dir, "state", "sb.db")},
		{"storage.path default", "",
			func(c *Config) string { return c.Storage.Path }, filepath.Join(dir, "data", "switchboard.db")},
		{"storage.path absolute", "storage: {path: " + filepath.Join(t.TempDir(), "abs.db") + "}\n",
			func(c *Config) string { return c.Storage.Path }, ""},
		{"smtp.ca_file", "sinks:\n  mail:\n    type: email\n    smtp: {host: smtp.example.com, ca_file: certs/ca.pem}\n    from: relay@example.com\n",
			func(c *Config) string { return c.Sink("mail").Settings.(*email.Settings).SMTP.CAFile }, filepath.Join(dir, "certs", "ca.pem")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(file, []byte(tt.yaml), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := tt.want
			if want == "" { // an absolute path is kept as written
				want = tt.yaml[len("storage: {path: ") : len(tt.yaml)-2]
			}
			if got := tt.got(cfg); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
