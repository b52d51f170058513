package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks/catalog"
)

// sinkTypes is how a message lists the sink types: `"slack", "webhook", … or "log"`, from
// sinks/catalog, so that adding a type does not change these tests.
var sinkTypes = quoteList(catalog.Names(), "or")

// TestParseErrors loads each testdata/config.<case>.yaml and compares every reported problem, in
// order, with the exact messages a user sees.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		// syntax is true when the YAML cannot be parsed, so no partial config comes back.
		syntax bool
		want   []string
	}{
		{name: "unknown_key", want: []string{
			`2: server.listn: unknown key (did you mean "listen"?)`,
			`6: sinks.crm.ulr: unknown key (did you mean "url"?)`,
		}},
		{name: "unknown_key_far", want: []string{
			`1: colour: unknown key (known keys: "defaults", "include", "log", "notify", "rules", "schema", "server", "sinks", "storage", "tests")`,
		}},
		{name: "unset_env", want: []string{
			`4: sinks.crm.url: environment variable "CRM_WEBHOOK_URL" is not set (set it, or write ${CRM_WEBHOOK_URL:-default})`,
		}},
		{name: "bad_env_reference", want: []string{
			`9: rules[0].actions[0].text: invalid environment variable name "{ extracted_variables.price " in ${{ extracted_variables.price } (use letters, digits and _, or write $$ for a literal $)`,
			`11: rules[0].actions[1].text: unterminated ${ (close it with }, or write $$ for a literal $)`,
		}},
		{name: "bad_duration", want: []string{
			`3: defaults.retry.initial_backoff: must be a duration such as "10s", "5m" or "1h30m", got "2 seconds"`,
			`4: defaults.retry.max_age: must be a positive duration, got "-1h"`,
		}},
		{name: "bad_size", want: []string{
			`2: server.max_body_bytes: must be a size such as "4MiB", "512KiB" or "1000000", got "4 megs"`,
		}},
		{name: "bad_rate", want: []string{
			`4: sinks.ops.rate_limit: must be a rate such as "1/s", "30/m", "100/h" or "5/10s", got "fast"`,
			`7: sinks.sales.rate_limit: must be a rate such as "1/s", "30/m", "100/h" or "5/10s", got "0/s"`,
		}},
		{name: "undefined_sink", want: []string{
			`9: rules[0].actions[0].sink: undefined sink "crm" (defined: "sales-slack", "hubspot")`,
		}},
		{name: "duplicate_rule", want: []string{
			`8: rules[1].name: duplicate rule name "failed" (first on line 5)`,
		}},
		{name: "action_key_not_for_sink", want: []string{
			`13: rules[0].actions[0].subject: not used by slack sinks (they take: text, blocks)`,
			`15: rules[0].actions[1].text: not used by webhook sinks (they take: body, headers)`,
		}},
		{name: "missing_required", want: []string{
			`2: sinks.nameless: missing required key "type" (one of ` + sinkTypes + `)`,
			`4: sinks.mail: missing required key "from"`,
			`6: sinks.mail.smtp: missing required key "host"`,
			`9: rules[0]: missing required key "name"`,
			`11: rules[0].actions[0]: missing required key "sink"`,
			`12: rules[1]: missing required key "actions" (a rule needs at least one action)`,
		}},
		{name: "wrong_scalar_type", want: []string{
			`2: server: must be a mapping of keys to values, got a list`,
			`4: log.show_phone_numbers: must be true or false, got "yes"`,
			`6: defaults.concurrency: must be a whole number, got "many"`,
			`8: defaults.retry.max_attempts: must be at least 1, got 0`,
			`12: sinks.ops.concurrency: must be a single value, got a list`,
			`15: rules[0].stop: must be true or false, got "no"`,
			`16: rules[0].when: must be a single value, got a mapping`,
		}},
		{name: "yaml_syntax", syntax: true, want: []string{
			`3: invalid YAML: this line is indented more than line 2, which does not end with ":": line it up with the key it belongs beside`,
		}},
		{name: "two_documents", syntax: true, want: []string{
			`3: invalid YAML: a config file holds one YAML document; remove the second "---"`,
		}},
		{name: "several", want: []string{
			`2: server.listen: must be host:port such as ":8080" or "127.0.0.1:8080", got "8080"`,
			`3: server.webhook_path: must start with "/", got "webhooks"`,
			`5: storage.driver: must be one of "sqlite" or "postgres", got "mysql"`,
			`7: log.format: must be one of "text" or "json", got "xml"`,
			`10: sinks.ops.type: must be one of ` + sinkTypes + `, got "slak"`,
			`12: rules[0].name: must use only letters, digits, "_", "." and "-" (it is a metric label), got "hot leads"`,
		}},
		{name: "backoff_order", want: []string{
			`4: defaults.retry.max_backoff: initial_backoff (5m0s) must not exceed max_backoff (1m0s)`,
			`9: sinks.ops.retry.initial_backoff: initial_backoff (20m0s) must not exceed max_backoff (1m0s)`,
		}},
		{name: "slack_modes", want: []string{
			`5: sinks.both.token: set either webhook_url, or token and channel, not both`,
			`6: sinks.no-channel: missing required key "channel" (posting with a token needs a channel)`,
			`12: sinks.hook-channel.channel: only used with token (an incoming webhook always posts to its own channel)`,
			`17: sinks.bad-api.api_url: must be an absolute http or https URL, got "slack.com/api"`,
		}},
		{name: "postgres_without_dsn", want: []string{
			`1: storage: missing required key "dsn" (the postgres driver needs a connection string such as ${DATABASE_URL})`,
		}},
		{name: "bad_url", want: []string{
			`4: sinks.crm.url: must be an absolute http or https URL (the value is a secret, so it is not shown)`,
			`5: sinks.crm.method: must be one of "GET", "POST", "PUT", "PATCH" or "DELETE", got "TRACE"`,
			`7: sinks.crm.headers.Bad Header: not a valid HTTP header name`,
			// Found by the type's Decode, at the key's line (before, only building the sink found it).
			`8: sinks.crm.signing_secret: starts with whsec_ but the rest is not base64: copy the whole secret again`,
		}},
		{name: "server_values", want: []string{
			`2: server.listen: must be host:port such as ":8080" or "127.0.0.1:8080", got "localhost"`,
			`3: server.webhook_path: must not use Switchboard's own route "/metrics", got "/metrics"`,
		}},
		{name: "webhook_path_root", want: []string{
			`2: server.webhook_path: must not be "/" (that would take every route): use a path such as "/webhooks/intellixent"`,
		}},
		{name: "webhook_path_brace", want: []string{
			`2: server.webhook_path: must not contain "{" or "}", got "/hooks/{x"`,
		}},
		{name: "webhook_path_space", want: []string{
			`2: server.webhook_path: must not contain spaces or control characters, got "/hooks/in take"`,
		}},
		{name: "webhook_path_tab", want: []string{
			`2: server.webhook_path: must not contain spaces or control characters, got "/hooks\tin"`,
		}},
		{name: "webhook_path_unclean", want: []string{
			`2: server.webhook_path: must be a clean path, without "//", "." or ".." segments, got "/hooks//in"`,
		}},
		{name: "webhook_path_dotdot", want: []string{
			`2: server.webhook_path: must be a clean path, without "//", "." or ".." segments, got "/hooks/../api/calls"`,
		}},
		{name: "webhook_path_debug", want: []string{
			`2: server.webhook_path: must not use Switchboard's own route "/debug/", got "/debug/hooks"`,
		}},
		{name: "webhook_path_ui", want: []string{
			`2: server.webhook_path: must not use Switchboard's own route "/ui/", got "/ui"`,
		}},
		{name: "email", want: []string{
			`4: sinks.mail.smtp: missing required key "password" (username and password go together)`,
			`6: sinks.mail.smtp.port: must be a port from 1 to 65535, got 70000`,
			`7: sinks.mail.smtp.tls: must be one of "starttls", "implicit" or "none", got "ssl"`,
			`9: sinks.mail.from: must be an email address such as "Switchboard <relay@example.com>", got "not an address"`,
			`13: rules[0].actions[0]: missing required key "subject"`,
			`13: rules[0].actions[0]: missing required key "text" (email actions need text, html or both)`,
			`14: rules[0].actions[0].to[0]: must be an email address such as "sales@example.com" or a {{ }} template, got "sales@"`,
			`15: rules[0].actions[0].headers: not used by email sinks (they take: to, cc, subject, text, html)`,
		}},
		{name: "duplicate_key", want: []string{
			`3: server.listen: key repeated (first on line 2)`,
		}},
		{name: "not_a_mapping", want: []string{
			`1: must be a mapping of keys to values, got a list`,
		}},
		{name: "sink_type_keys", want: []string{
			`2: sinks.ops: missing required key "webhook_url" (or token and channel to post with the Web API)`,
			`4: sinks.ops.url: not used by slack sinks (they take: type, rate_limit, retry, concurrency, hold_after, probe_interval, webhook_url, token, channel, api_url, timeout)`,
			// A log sink knows every type's keys: the list grows with the catalog.
			`10: sinks.ops-log.colour: unknown key (known keys: ` + quotedSorted(allSinkKeys()) + `)`,
		}},
		{name: "rules_not_list", want: []string{
			`2: rules: must be a list of rules (each item starting with "- name:"), got a mapping`,
		}},
		{name: "bad_sink_name", want: []string{
			`2: sinks.sales slack: sink names may use only letters, digits, "_", "." and "-"`,
		}},
		{name: "empty_actions_and_tree", env: map[string]string{"CHANNEL": "ops"}, want: []string{
			`7: rules[0].actions: must be a list of at least one action (each item starting with "- sink:")`,
			`12: rules[1].actions[0].blocks[0].text: environment variable "EMOJI" is not set (set it, or write ${EMOJI:-default})`,
		}},
		{name: "not_mappings", want: []string{
			`2: sinks.ops: must be a mapping of keys to values, got a single value`,
			`7: rules[0]: must be a mapping of keys to values, got a single value`,
			`10: rules[1].actions[0]: must be a mapping of keys to values, got a single value`,
			`12: rules[1].actions[1].blocks: must be a list of blocks (each item starting with "- type:"), got a mapping`,
		}},
		{name: "merge_bomb", want: []string{
			`7: sinks.s5: merges too much once its aliases are expanded (at most 100000 values in all)`,
			`8: sinks.s6: missing required key "type" (one of ` + sinkTypes + `)`,
		}},
		{name: "lease", want: []string{
			`2: storage.lease: 1m0s must be longer than every sink timeout, but sinks.mail.smtp.timeout is 1m30s (raise lease or lower that timeout)`,
		}},
		{name: "lease-default", want: []string{
			`3: sinks.crm.timeout: 5m0s must be shorter than storage.lease (default 2m0s): lower it, or set a longer storage.lease`,
		}},
		{name: "alias_cycle", want: []string{
			`1: server: merges itself through an alias`,
			`10: rules[0].actions[0].body: contains itself through an alias; YAML aliases here may only repeat other values`,
		}},
		{name: "alias_bomb", want: []string{
			`9: rules[0].actions[0].body: is too large once its aliases are expanded (blocks and body hold at most 100000 values in all)`,
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join("testdata", "config."+tt.name+".yaml")
			seen[file] = true
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse(file, data, mapEnv(tt.env))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want an Errors", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, strings.TrimPrefix(e.Error(), file+":"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.syntax && cfg != nil {
				t.Errorf("config for a YAML syntax error = %+v, want nil", cfg)
			}
			if !tt.syntax && cfg == nil {
				t.Errorf("config = nil, want a partial config alongside validation errors")
			}
		})
	}
	files, _ := filepath.Glob("testdata/config.*.yaml")
	for _, f := range files {
		if !seen[f] && !strings.HasPrefix(filepath.Base(f), "config.valid") {
			t.Errorf("%s has no row in TestParseErrors", f)
		}
	}
}

// mapEnv returns a lookupEnv over m.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestErrorsSortedAndPartial(t *testing.T) {
	data := []byte("rules:\n  - name: a\n    actions:\n      - sink: nope\nserver:\n  listen: bad\n")
	cfg, err := Parse("f.yaml", data, nil)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("Parse error = %v, want 2 problems", err)
	}
	if errs[0].Line != 4 || errs[1].Line != 6 {
		t.Errorf("lines = %d, %d, want 4, 6 (sorted by line)", errs[0].Line, errs[1].Line)
	}
	if cfg == nil || len(cfg.Rules) != 1 || cfg.Rules[0].Name != "a" {
		t.Fatalf("partial config = %+v, want the rule \"a\" decoded", cfg)
	}
	if got := cfg.Rules[0].Actions[0].SinkLine; got != 4 {
		t.Errorf("SinkLine = %d, want 4", got)
	}
}

// TestPartialConfigKeepsIndexes checks that a rule or action too broken to decode still takes its
// place, so that rules[i].actions[j] in the errors of a later stage names the right item.
func TestPartialConfigKeepsIndexes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "config.not_mappings.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("f.yaml", data, nil)
	if err == nil || cfg == nil {
		t.Fatalf("Parse = %v, %v; want a partial config and errors", cfg, err)
	}
	if got := len(cfg.Rules); got != 2 {
		t.Fatalf("rules = %d, want 2 (a placeholder for the broken one)", got)
	}
	if got := cfg.Rules[1].Name; got != "blocks" {
		t.Errorf("rules[1].name = %q, want \"blocks\"", got)
	}
	acts := cfg.Rules[1].Actions
	if len(acts) != 2 || acts[0].Sink != "" || acts[1].Sink != "audit" {
		t.Errorf("actions = %+v, want a placeholder then the audit action", acts)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load error = %v, want one wrapping os.ErrNotExist", err)
	}
}

// quotedSorted is keys sorted, each quoted, joined by ", ", as an unknown-key error lists them.
func quotedSorted(keys []string) string {
	keys = slices.Sorted(slices.Values(keys))
	for i, k := range keys {
		keys[i] = strconv.Quote(k)
	}
	return strings.Join(keys, ", ")
}
