package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/switchboard-relay/switchboard/relay"
)

// envFileName is the file of secrets that `switchboard init` writes beside the config, and that every
// command loads from the config's folder when it exists.
const envFileName = "switchboard.env"

// configFlags are the --config and --env-file flags that every command taking a config shares. Resolving
// them is the one place where the environment file is loaded.
type configFlags struct {
	config  *string
	envFile *string
	env     *envFile
}

// addConfigFlags registers --config and --env-file on fs.
func addConfigFlags(fs *flag.FlagSet) *configFlags {
	return &configFlags{
		config:  fs.String("config", defaultConfig(), "config file"),
		envFile: fs.String("env-file", "", "KEY=VALUE file of secrets (default: "+envFileName+" beside the config, when it exists)"),
	}
}

// resolve returns the config path after loading the environment file into the process environment:
// --env-file when given (it must exist), else switchboard.env in the config's folder when it exists.
// Variables already set in the environment win over the file's.
func (c *configFlags) resolve() (string, error) {
	path, required := *c.envFile, true
	if path == "" {
		path, required = filepath.Join(filepath.Dir(*c.config), envFileName), false
	}
	c.env = &envFile{path: path, owned: map[string]bool{}}
	if err := c.env.apply(); err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return *c.config, nil
		}
		return "", err
	}
	return *c.config, nil
}

// envFile is an environment file whose variables were put into the process environment; owned names
// the variables it set (not those the environment already had), so that a reload can update them.
type envFile struct {
	path  string
	mu    sync.Mutex
	owned map[string]bool
}

// apply (re)reads the file: a variable the environment did not have before is set, one the file set
// earlier takes the file's new value, and one the file set earlier but no longer holds is unset.
func (e *envFile) apply() error {
	data, err := os.ReadFile(e.path)
	if err != nil {
		return fmt.Errorf("read environment file: %w", err)
	}
	vars, err := parseEnvFile(e.path, data)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	for _, kv := range vars {
		seen[kv[0]] = true
		if _, set := os.LookupEnv(kv[0]); set && !e.owned[kv[0]] {
			continue // the environment wins
		}
		if err := os.Setenv(kv[0], kv[1]); err != nil {
			return fmt.Errorf("%s: set %s: %w", e.path, kv[0], err)
		}
		e.owned[kv[0]] = true
	}
	for name := range e.owned {
		if !seen[name] {
			_ = os.Unsetenv(name)
			delete(e.owned, name)
		}
	}
	return nil
}

// reload re-reads the environment file before a config reload, so a changed secret takes effect; a
// missing file is not an error (the variables it set stay as they were).
func (c *configFlags) reload() error {
	if c.env == nil {
		return nil
	}
	if err := c.env.apply(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// parseEnvFile reads KEY=VALUE lines: blank lines and lines starting with # are skipped, an optional
// "export " prefix is allowed, and a value wholly in single or double quotes loses them (no escapes
// or expansion). Errors name the file and line, never a value.
func parseEnvFile(path string, data []byte) ([][2]string, error) {
	var out [][2]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		s = strings.TrimPrefix(s, "export ")
		name, value, ok := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		if !ok || !validEnvName(name) {
			return nil, fmt.Errorf("%s:%d: expected NAME=value (NAME of letters, digits and _)", path, line)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		out = append(out, [2]string{name, value})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// validEnvName reports whether s is a shell variable name.
func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// load resolves the config path (reading switchboard.env first, see resolve) and loads the config
// as serve would, for the commands that then work on the store (replay, sinks, pause, resume).
func (cf *configFlags) load() (*relay.Loaded, error) {
	path, err := cf.resolve()
	if err != nil {
		return nil, err
	}
	loaded, err := relay.Load(path, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("load config:\n%w", err)
	}
	return loaded, nil
}
