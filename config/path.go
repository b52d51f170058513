package config

import "path/filepath"

// ResolvePath returns the file path p as written in the config file named file: a relative p is
// taken relative to the folder that holds file (not the working directory), and made absolute; an
// absolute or empty p is returned as is. Every file key of the config (storage.path, smtp.ca_file,
// and any later one) goes through it, via decoder.path, so a config means the same files wherever
// switchboard is started from.
func ResolvePath(file, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	joined := filepath.Join(filepath.Dir(file), p)
	if abs, err := filepath.Abs(joined); err == nil {
		return abs
	}
	return joined
}

// path reads the file path at key into dst, resolved against the config file's folder (see
// ResolvePath). It reports whether the key was set.
func (d *decoder) path(o *object, key string, dst *string) bool {
	v, ok := d.scalar(o, key)
	if ok {
		*dst = ResolvePath(d.file, v)
	}
	return ok
}
