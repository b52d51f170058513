package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	tlsKeys  = []string{"cert_file", "key_file", "acme"}
	acmeKeys = []string{"domains", "email", "cache_dir", "directory_url"}
)

// TLS is `server.tls:`: HTTPS from a certificate and key in files (re-read on every reload), or from
// ACME (Let's Encrypt) with ACME set.
type TLS struct {
	CertFile, KeyFile string // absolute: a relative path is resolved against the config file's folder
	ACME              *ACME
}

// ACME is `server.tls.acme:`: certificates obtained and renewed automatically.
type ACME struct {
	Domains  []string
	Email    string
	CacheDir string // absolute, like CertFile
	// DirectoryURL is the ACME server; empty means Let's Encrypt's production directory.
	DirectoryURL string
}

// tls reads server.tls, or returns nil when it is absent.
func (d *decoder) tls(server *object) *TLS {
	if !server.has("tls") {
		return nil
	}
	o := d.sub(server, "tls", tlsKeys)
	t := &TLS{}
	d.path(o, "cert_file", &t.CertFile)
	d.path(o, "key_file", &t.KeyFile)
	if o.has("acme") {
		a := d.sub(o, "acme", acmeKeys)
		t.ACME = &ACME{}
		if n := resolve(a.vals["domains"]); n != nil {
			items := []*yaml.Node{n}
			if n.Kind == yaml.SequenceNode {
				items = n.Content
			}
			for _, item := range items {
				if v, ok := d.scalarNode(item, a.at("domains")); ok {
					t.ACME.Domains = append(t.ACME.Domains, v)
				}
			}
		}
		if len(t.ACME.Domains) == 0 {
			d.missing(a, "domains", "list the host names to get certificates for, such as [relay.example.com]")
		}
		d.str(a, "email", &t.ACME.Email)
		if !d.path(a, "cache_dir", &t.ACME.CacheDir) {
			d.missing(a, "cache_dir", "name a folder that keeps the account key and certificates across restarts, such as /var/lib/switchboard/acme")
		}
		if d.str(a, "directory_url", &t.ACME.DirectoryURL) && !strings.HasPrefix(t.ACME.DirectoryURL, "https://") {
			d.errorf(a.lineOf("directory_url"), a.at("directory_url"), "must be an https:// URL, got %q", t.ACME.DirectoryURL)
		}
	}
	switch files := t.CertFile != "" || t.KeyFile != ""; {
	case files && t.ACME != nil:
		d.errorf(o.lineOf("acme"), o.at("acme"), "use either cert_file and key_file, or acme, not both")
	case files && (t.CertFile == "" || t.KeyFile == ""):
		d.errorf(o.line, o.path, "cert_file and key_file go together: set both")
	case !files && t.ACME == nil && !o.bad:
		d.errorf(o.line, o.path, "set cert_file and key_file, or acme")
	}
	return t
}
