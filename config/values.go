package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

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

// sinkSecret is secret for a sink's secret-bearing value (URL, token, password, header value,
// signing secret), which also warns when a ${…} in it expands to an empty string.
func (d *decoder) sinkSecret(o *object, key string, dst *Secret) bool {
	d.warnEmptyRefs(o, key)
	return d.secret(o, key, dst)
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
