package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks the YAML node tree, collecting every problem instead of stopping at the first.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	errs   Errors
	// suggested holds the paths of keys offered by "did you mean", which are then not also missing.
	suggested map[string]bool
	// merging holds the mappings whose merge keys are being read, to stop a mapping merging itself.
	merging map[*yaml.Node]bool
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// object is a YAML mapping whose keys have been checked against the keys its section allows.
type object struct {
	path string
	// line is the line of the key that owns the mapping, where a missing key is reported.
	line int
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
	// order is the keys in file order.
	order []string
}

// at returns the path of key inside o.
func (o *object) at(key string) string { return join(o.path, key) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// has reports whether key is present with a non-null value.
func (o *object) has(key string) bool {
	n := o.vals[key]
	return n != nil && !isNull(n)
}

// lineOf returns the line of key's value, or of the mapping when key is absent.
func (o *object) lineOf(key string) int {
	if n := o.vals[key]; n != nil {
		return n.Line
	}
	return o.line
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// kindName describes a node's kind for a user, without Go or YAML internals.
func kindName(n *yaml.Node) string {
	switch resolve(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// object checks that n is a mapping whose keys are all in known (nil known accepts any key) and
// returns it. An absent or null n is an empty object. YAML merge keys ("<<: *anchor") are honoured;
// keys written explicitly win over merged ones.
func (d *decoder) object(n *yaml.Node, path string, line int, known []string) *object {
	o := &object{path: path, line: line, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	n = resolve(n)
	if isNull(n) {
		return o
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping of keys to values, got %s", kindName(n))
		return o
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "keys must be plain names, got %s", kindName(k))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := o.keys[k.Value]; dup {
			d.errorf(k.Line, join(path, k.Value), "key repeated (first on line %d)", first.Line)
			continue
		}
		if known != nil && !contains(known, k.Value) {
			d.unknownKey(k, path, known)
			continue
		}
		o.keys[k.Value], o.vals[k.Value] = k, v
		o.order = append(o.order, k.Value)
	}
	for _, m := range merges {
		m = resolve(m)
		if d.merging[m] {
			d.errorf(m.Line, path, "merges itself through an alias")
			continue
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			if d.merging == nil {
				d.merging = map[*yaml.Node]bool{}
			}
			d.merging[n] = true
			merged := d.object(src, path, line, known)
			delete(d.merging, n)
			for _, k := range merged.order {
				if _, ok := o.keys[k]; !ok {
					o.keys[k], o.vals[k] = merged.keys[k], merged.vals[k]
					o.order = append(o.order, k)
				}
			}
		}
	}
	return o
}

// sub returns the mapping at key as an object.
func (d *decoder) sub(o *object, key string, known []string) *object {
	line := o.line
	if k := o.keys[key]; k != nil {
		line = k.Line
	}
	return d.object(o.vals[key], o.at(key), line, known)
}

// scalarNode returns the expanded value of a scalar node and whether it is set: a null, empty or
// empty-after-expansion value is unset, so the default applies.
func (d *decoder) scalarNode(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "must be a single value, got %s", kindName(n))
		return "", false
	}
	v := d.expandNode(n, path)
	return v, v != ""
}

// scalar returns the expanded value at key and whether it is set.
func (d *decoder) scalar(o *object, key string) (string, bool) {
	n := o.vals[key]
	if n == nil {
		return "", false
	}
	return d.scalarNode(n, o.at(key))
}

func (d *decoder) str(o *object, key string, dst *string) bool {
	v, ok := d.scalar(o, key)
	if ok {
		*dst = v
	}
	return ok
}

func (d *decoder) secret(o *object, key string, dst *Secret) bool {
	v, ok := d.scalar(o, key)
	if ok {
		*dst = Secret(v)
	}
	return ok
}

// enum reads a string that must be one of allowed, compared case-insensitively and stored in
// lower case.
func (d *decoder) enum(o *object, key string, dst *string, allowed ...string) bool {
	v, ok := d.scalar(o, key)
	if !ok {
		return false
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			*dst = a
			return true
		}
	}
	d.errorf(o.lineOf(key), o.at(key), "must be one of %s, got %q", quoteList(allowed, "or"), v)
	return false
}

func (d *decoder) boolean(o *object, key string, dst *bool) bool {
	v, ok := d.scalar(o, key)
	if !ok {
		return false
	}
	switch v {
	case "true", "True", "TRUE":
		*dst = true
	case "false", "False", "FALSE":
		*dst = false
	default:
		d.errorf(o.lineOf(key), o.at(key), "must be true or false, got %q", v)
		return false
	}
	return true
}

// integer reads a whole number no smaller than min.
func (d *decoder) integer(o *object, key string, dst *int, min int) bool {
	v, ok := d.scalar(o, key)
	if !ok {
		return false
	}
	i, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil {
		d.errorf(o.lineOf(key), o.at(key), "must be a whole number, got %q", v)
		return false
	}
	if i < min {
		d.errorf(o.lineOf(key), o.at(key), "must be at least %d, got %d", min, i)
		return false
	}
	*dst = i
	return true
}

// duration reads a Go duration that must be positive, or zero when allowZero.
func (d *decoder) duration(o *object, key string, dst *time.Duration, allowZero bool) bool {
	v, ok := d.scalar(o, key)
	if !ok {
		return false
	}
	dur, err := time.ParseDuration(v)
	if err != nil {
		if v == "0" && allowZero {
			*dst = 0
			return true
		}
		d.errorf(o.lineOf(key), o.at(key), "must be a duration such as \"10s\", \"5m\" or \"1h30m\", got %q", v)
		return false
	}
	if dur < 0 || (dur == 0 && !allowZero) {
		d.errorf(o.lineOf(key), o.at(key), "must be a positive duration, got %q", v)
		return false
	}
	*dst = dur
	return true
}

func (d *decoder) size(o *object, key string, dst *Size) bool {
	v, ok := d.scalar(o, key)
	if !ok {
		return false
	}
	s, err := parseSize(v)
	if err != nil {
		d.errorf(o.lineOf(key), o.at(key), "must be a size such as \"4MiB\", \"512KiB\" or \"1000000\", got %q", v)
		return false
	}
	if s <= 0 {
		d.errorf(o.lineOf(key), o.at(key), "must be a positive size, got %q", v)
		return false
	}
	*dst = s
	return true
}

func (d *decoder) rate(o *object, key string) *Rate {
	v, ok := d.scalar(o, key)
	if !ok {
		return nil
	}
	r, err := parseRate(v)
	if err != nil {
		d.errorf(o.lineOf(key), o.at(key), "must be a rate such as \"1/s\", \"30/m\", \"100/h\" or \"5/10s\", got %q", v)
		return nil
	}
	return r
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// parseSize parses a byte count: a whole number with an optional unit KiB, MiB, GiB (powers of two),
// KB, MB, GB (powers of ten) or B. Units are case-insensitive, and a space may separate them.
func parseSize(s string) (Size, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			mult, s = u.mult, strings.TrimSpace(s[:len(s)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse size: %w", err)
	}
	if n > 0 && n > (1<<62)/mult {
		return 0, fmt.Errorf("parse size: too large")
	}
	return Size(n * mult), nil
}

// parseRate parses "N/s", "N/m", "N/h" or "N/<duration>" with N at least 1.
func parseRate(s string) (*Rate, error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return nil, fmt.Errorf("parse rate: missing /")
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("parse rate: count must be a whole number of at least 1")
	}
	per = strings.TrimSpace(per)
	var dur time.Duration
	switch per {
	case "s":
		dur = time.Second
	case "m":
		dur = time.Minute
	case "h":
		dur = time.Hour
	default:
		dur, err = time.ParseDuration(per)
		if err != nil || dur <= 0 {
			return nil, fmt.Errorf("parse rate: period must be s, m, h or a positive duration")
		}
	}
	return &Rate{Events: n, Per: dur}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quoteList formats list as `"a", "b" or "c"`, with the given last conjunction.
func quoteList(list []string, conj string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// unknownKey reports key k of the mapping at path as unknown, suggesting the nearest of known.
// A suggested key is not also reported as missing: the typo is the one problem.
func (d *decoder) unknownKey(k *yaml.Node, path string, known []string) {
	hint, nearest := suggest(k.Value, known)
	if nearest != "" {
		if d.suggested == nil {
			d.suggested = map[string]bool{}
		}
		d.suggested[join(path, nearest)] = true
	}
	d.errorf(k.Line, join(path, k.Value), "unknown key%s", hint)
}

// suggest returns " (did you mean "x"?)" for the known key nearest to key, or the list of known keys
// when none is close.
func suggest(key string, known []string) (hint, nearest string) {
	best, bestDist := "", 0
	for _, k := range known {
		dist := editDistance(strings.ToLower(key), k)
		if best == "" || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" && bestDist <= max(1, min(2, len(key)/3)) && bestDist < len(key) {
		return fmt.Sprintf(" (did you mean %q?)", best), best
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return " (known keys: " + strings.Join(quoteAll(sorted), ", ") + ")", ""
}

func quoteAll(list []string) []string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return q
}

// editDistance is the optimal string alignment distance: insertions, deletions, substitutions and
// transpositions of adjacent characters each cost one.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
