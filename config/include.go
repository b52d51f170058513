package config

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"
)

// includeKeys are what an included file may hold.
var includeKeys = []string{"rules", "tests"}

// globIncludes finds the files of an include pattern; tests that must not touch the file system (the
// fuzzer) replace it.
var globIncludes = filepath.Glob

// includes reads the files that `include:` names (globs relative to the config file's folder, in
// the order written, each glob's matches in lexical order) and appends their rules and tests to
// cfg's, after the config file's own. A file matched twice is read once; a glob that matches nothing
// is a warning. Errors in an included file name that file and its line.
func (d *decoder) includes(top *object, cfg *Config) {
	n := resolve(top.vals["include"])
	if isNull(n) {
		return
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	seen := map[string]bool{filepath.Clean(cfg.File): true}
	for i, item := range items {
		path := "include"
		if n.Kind == yaml.SequenceNode {
			path = fmt.Sprintf("include[%d]", i)
		}
		pattern, ok := d.scalarNode(item, path)
		if !ok {
			continue
		}
		line := resolve(item).Line
		full := pattern
		if !filepath.IsAbs(full) {
			full = filepath.Join(filepath.Dir(cfg.File), pattern)
		}
		matches, err := globIncludes(full)
		if err != nil {
			d.errorf(line, path, "invalid pattern %q: use *, ? and [...] as in rules/*.yaml", pattern)
			continue
		}
		if len(matches) == 0 {
			d.warnf(line, path, "%q matches no file (looked for %s)", pattern, full)
			continue
		}
		for _, m := range matches {
			if seen[filepath.Clean(m)] {
				continue
			}
			seen[filepath.Clean(m)] = true
			d.include(m, line, path, cfg)
		}
	}
}

// include reads one included file.
func (d *decoder) include(file string, line int, path string, cfg *Config) {
	info, err := os.Stat(file)
	switch {
	case err != nil:
		d.errorf(line, path, "cannot read %s: %v", file, unwrapPath(err))
		return
	case info.IsDir():
		return // rules/* matching a folder: only files are read
	case !info.Mode().IsRegular():
		d.errorf(line, path, "%s is not a regular file", file)
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		d.errorf(line, path, "cannot read %s: %v", file, unwrapPath(err))
		return
	}
	cfg.Files = append(cfg.Files, file)
	main := d.file
	d.file = file
	defer func() { d.file = main }()
	root, err := parseYAML(data)
	if err != nil {
		e := syntaxError(file, err)
		e.Line = problemLine(data, err, e.Line)
		d.errs = append(d.errs, e)
		return
	}
	top := d.object(root, "", 1, includeKeys)
	if top.bad {
		return
	}
	cfg.Rules = append(cfg.Rules, d.rules(top, cfg)...)
	cfg.Tests = append(cfg.Tests, d.tests(top)...)
}

// checkRuleNames reports a rule name used in two files (a repeat within one file is reported when
// that file is read).
func (d *decoder) checkRuleNames(cfg *Config) {
	first := map[string]*Rule{}
	for _, r := range cfg.Rules {
		if r.Name == "" {
			continue
		}
		f, dup := first[r.Name]
		if !dup {
			first[r.Name] = r
			continue
		}
		if f.File != r.File {
			d.file = r.File
			d.errorf(r.Line, "rules", "duplicate rule name %q (first at %s:%d)", r.Name, f.File, f.Line)
			d.file = cfg.File
		}
	}
}

// sortByPlace sorts es by file (the config file first, then included files in the order read) and
// line; problems of one line keep their order.
func sortByPlace(es Errors, files []string) {
	rank := func(file string) int {
		if i := slices.Index(files, file); i >= 0 {
			return i
		}
		return len(files)
	}
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(rank(a.File), rank(b.File)), cmp.Compare(a.Line, b.Line))
	})
}

// SortErrors sorts problems and warnings from every stage of loading cfg by file, in the order the
// files were read, then by line.
func SortErrors(es Errors, cfg *Config) {
	sortByPlace(es, cfg.Files)
}

// unwrapPath is an os error without the operation and path, which the message already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
