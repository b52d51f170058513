package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestServerTLS(t *testing.T) {
	tests := []struct {
		name    string
		tls     string
		want    *TLS
		wantErr string
	}{
		{"no tls", "", nil, ""},
		{"files, relative to the config", "{cert_file: certs/c.pem, key_file: /etc/k.pem}",
			&TLS{CertFile: ResolvePath("conf/x.yaml", "certs/c.pem"), KeyFile: "/etc/k.pem"}, ""},
		{"acme", "{acme: {domains: [relay.example.com, b.example.com], email: ops@example.com, cache_dir: acme}}",
			&TLS{ACME: &ACME{Domains: []string{"relay.example.com", "b.example.com"}, Email: "ops@example.com", CacheDir: ResolvePath("conf/x.yaml", "acme")}}, ""},
		{"acme without domains", "{acme: {cache_dir: /var/lib/x}}", nil, `server.tls.acme: missing required key "domains"`},
		{"acme without cache_dir", "{acme: {domains: [a.example.com]}}", nil, `server.tls.acme: missing required key "cache_dir"`},
		{"acme directory not https", "{acme: {domains: [a.example.com], cache_dir: /x, directory_url: http://x}}", nil, "directory_url: must be an https:// URL"},
		{"both files and acme", "{cert_file: c, key_file: k, acme: {domains: [a.example.com], cache_dir: /x}}", nil, "not both"},
		{"cert without key", "{cert_file: c}", nil, "set both"},
		{"empty", "{}", nil, "set cert_file and key_file, or acme"},
		{"unknown key", "{cert: c}", nil, "server.tls.cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "server:\n  listen: \":8443\"\n"
			if tt.tls != "" {
				src += "  tls: " + tt.tls + "\n"
			}
			cfg, err := Parse(filepath.Join("conf", "switchboard.yaml"), []byte(src), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "switchboard.yaml:3:") {
					t.Fatalf("err = %v, want file:line and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Server.TLS
			switch {
			case tt.want == nil && got != nil, tt.want != nil && got == nil:
				t.Fatalf("TLS = %+v, want %+v", got, tt.want)
			case tt.want == nil:
				return
			}
			if got.CertFile != tt.want.CertFile || got.KeyFile != tt.want.KeyFile {
				t.Errorf("files = %q %q, want %q %q", got.CertFile, got.KeyFile, tt.want.CertFile, tt.want.KeyFile)
			}
			if (got.ACME == nil) != (tt.want.ACME == nil) {
				t.Fatalf("ACME = %+v, want %+v", got.ACME, tt.want.ACME)
			}
			if a, w := got.ACME, tt.want.ACME; a != nil &&
				(strings.Join(a.Domains, ",") != strings.Join(w.Domains, ",") || a.Email != w.Email || a.CacheDir != w.CacheDir) {
				t.Errorf("ACME = %+v, want %+v", a, w)
			}
		})
	}
}
