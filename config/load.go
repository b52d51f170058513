package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// topKeys are the sections of a config file.
var topKeys = []string{"server", "storage", "log", "defaults", "sinks", "rules", "tests", "include", "schema", "notify"}

// Load reads the config file at path and parses it with the process environment; see Parse.
// A file that cannot be read is an error wrapping the os error, not an Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse decodes, defaults and validates a config. file names it in errors; lookupEnv resolves
// ${VAR} references (nil means an empty environment).
//
// On success it returns the Config and nil; warnings, if any, are in Config.Warnings. When the YAML itself cannot be parsed it returns nil and
// an Errors holding the syntax error. When the YAML parses but has problems, it returns both a
// partial Config (every valid value decoded, defaults elsewhere) and an Errors listing every
// problem sorted by line, so that `switchboard check` can also compile the rules and report
// everything at once. A Config returned with an error must not be used to serve.
func Parse(file string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	d := &decoder{file: file, lookup: lookupEnv, aliasBudget: maxTreeNodes}
	root, err := parseYAML(data)
	if err != nil {
		d.errs = append(d.errs, yamlError(file, data, err))
		return nil, d.errs
	}
	cfg := &Config{File: file, Files: []string{file}}
	top := d.object(root, "", 1, topKeys)
	cfg.Server = d.server(d.sub(top, "server", serverKeys))
	storage := d.sub(top, "storage", storageKeys)
	cfg.Storage = d.storage(storage)
	cfg.Log = d.log(d.sub(top, "log", logKeys))
	cfg.Defaults = d.delivery(d.sub(top, "defaults", deliveryKeys), defaultDelivery())
	cfg.Sinks = d.sinks(top, cfg.Defaults)
	d.checkLease(storage, cfg)
	cfg.Rules = d.rules(top, cfg)
	cfg.Schema = d.schema(top)
	cfg.Notify = d.notify(top, cfg)
	cfg.Tests = d.tests(top)
	d.includes(top, cfg)
	d.checkRuleNames(cfg)
	d.checkTests(cfg)
	d.warnCommentValues(root, "", 0)
	sortByPlace(d.errs, cfg.Files)
	sortByPlace(d.warns, cfg.Files)
	cfg.Warnings = d.warns
	if err := d.errs.Err(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// parseYAML returns the root node of the single YAML document in data, or nil for an empty file.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("yaml: line %d: a config file holds one YAML document; remove the second \"---\"", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0], nil
	}
	return nil, nil
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError turns a yaml.v3 parse error into an Error with its line.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	e := &Error{File: file, Msg: "invalid YAML: " + msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	return e
}

// maxProblemSearchLines bounds the re-parsing problemLine does.
const maxProblemSearchLines = 100_000

// problemLine improves the line of a YAML syntax error. yaml.v3 reports the line where the enclosing
// construct began ("line 1: did not find expected key" for a bad indent on line 40), so this finds
// the shortest prefix of the file, in whole lines, that fails with the very same error (a binary
// search: a few parses, not one per line): the line that prefix ends on is where the problem is. It
// returns reported when no such prefix is found.
func problemLine(data []byte, err error, reported int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if reported <= 0 || len(lines) > maxProblemSearchLines {
		return reported
	}
	ends := make([]int, len(lines)+1) // ends[i] is the length of the first i lines
	for i, l := range lines {
		ends[i+1] = ends[i] + len(l)
	}
	fails := func(i int) bool {
		_, perr := parseYAML(data[:ends[i]])
		return perr != nil && perr.Error() == err.Error()
	}
	// A prefix that contains the problem fails with the same error, and so does every longer one:
	// binary search for the shortest.
	if i := sort.Search(len(lines)-reported+1, func(k int) bool { return fails(reported + k) }) + reported; i <= len(lines) {
		return i
	}
	return reported
}
