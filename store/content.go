package store

import (
	"bytes"
	"encoding/json"
)

// SameContent reports whether two webhook bodies carry the same JSON: key order, whitespace and
// escapes do not count, values do (numbers are compared as written, so 1 and 1.0 differ). Bodies
// that are not JSON are the same only when their bytes are. Stores use it to tell a duplicate
// (ErrDuplicate) from a conflict (ErrConflict).
func SameContent(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ca, ok := canonical(a)
	if !ok {
		return false
	}
	cb, ok := canonical(b)
	return ok && bytes.Equal(ca, cb)
}

// canonical re-encodes a JSON document with object keys sorted and no insignificant whitespace.
func canonical(body []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // more than one document
	}
	out, err := json.Marshal(v)
	return out, err == nil
}
