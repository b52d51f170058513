package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// escaper appends s to dst made safe for one destination (a sink type's spec.Escaper). A nil
// escaper appends s unchanged. Escapers apply only to values inserted from the call, never to
// literal template text.
type escaper = spec.Escaper

// appendFormatted appends v as it reads inside a string: nil is empty, a whole number has no decimal
// point, booleans are true and false, strings are themselves, lists and objects are compact JSON.
func appendFormatted(dst []byte, v any, esc escaper) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return dst, nil
	case string:
		return escape(dst, v, esc), nil
	case *string:
		if v == nil {
			return dst, nil
		}
		return escape(dst, *v, esc), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case float64:
		return appendFloat(dst, v), nil
	case float32:
		return appendFloat(dst, float64(v)), nil
	}
	if n, ok := asInt(v); ok {
		return strconv.AppendInt(dst, n, 10), nil
	}
	if u, ok := v.(uint64); ok {
		return strconv.AppendUint(dst, u, 10), nil
	}
	if esc == nil {
		return appendJSON(dst, v, nil, nil)
	}
	js, err := appendJSON(nil, v, nil, nil)
	if err != nil {
		return dst, err
	}
	return esc(dst, string(js)), nil
}

func escape(dst []byte, s string, esc escaper) []byte {
	if esc == nil {
		return append(dst, s...)
	}
	return esc(dst, s)
}

func asInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int16:
		return int64(v), true
	case int8:
		return int64(v), true
	case uint:
		return int64(v), v <= math.MaxInt64
	case uint32:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint8:
		return int64(v), true
	}
	return 0, false
}

// appendFloat formats f in its shortest form, as JSON does: 125 for 125.0, 0.5, 1e+21.
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, f, format, -1, 64)
}

var errNotFinite = errors.New("a number that is not finite (NaN or infinity) cannot be written as JSON")

// appendJSON appends v as compact JSON, passing every string in it through esc first. Object keys are
// sorted. Types it does not know are marshalled by encoding/json and then re-encoded, so esc still
// reaches their strings. With urlEsc set (a value an expression built inside Slack blocks, say
// `{{ recording_url != nil ? {"type": "button", "url": recording_url, …} : … }}`), the value of a URL
// key (urlKey) in its maps and lists of maps is escaped by urlEsc instead, like a URL key written in
// the YAML.
func appendJSON(dst []byte, v any, esc, urlEsc escaper) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, v, esc), nil
	case *string:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendJSONString(dst, *v, esc), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return dst, errNotFinite
		}
		return appendFloat(dst, v), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k, esc)
			dst = append(dst, ':')
			if urlEsc != nil && urlKey(k) {
				dst, err = appendJSON(dst, v[k], urlEsc, nil)
			} else {
				dst, err = appendJSON(dst, v[k], esc, urlEsc)
			}
			if err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSON(dst, e, esc, urlEsc); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, e, esc)
		}
		return append(dst, ']'), nil
	case call.Turn:
		return appendTurn(dst, &v, esc)
	case []call.Turn:
		dst = append(dst, '[')
		for i := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendTurn(dst, &v[i], esc); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	if n, ok := asInt(v); ok {
		return strconv.AppendInt(dst, n, 10), nil
	}
	if u, ok := v.(uint64); ok {
		return strconv.AppendUint(dst, u, 10), nil
	}
	if f, ok := v.(float32); ok {
		return appendJSON(dst, float64(f), esc, nil)
	}
	return appendOther(dst, v, esc)
}

func appendTurn(dst []byte, t *call.Turn, esc escaper) ([]byte, error) {
	dst = append(dst, `{"text":`...)
	dst = appendJSONString(dst, t.Text, esc)
	dst = append(dst, `,"sender":`...)
	dst = appendJSONString(dst, t.Sender, esc)
	dst = append(dst, `,"timestamp":`...)
	dst, err := appendJSON(dst, t.Timestamp, esc, nil)
	return append(dst, '}'), err
}

// appendOther encodes a value of a type appendJSON does not list, through encoding/json.
func appendOther(dst []byte, v any, esc escaper) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, errors.New("value cannot be written as JSON: pick the fields to send")
	}
	var generic any
	if err := json.Unmarshal(buf.Bytes(), &generic); err != nil {
		return dst, errors.New("value cannot be written as JSON: pick the fields to send")
	}
	return appendJSON(dst, generic, esc, nil)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s, passed through esc, as a JSON string (see appendJSONText).
func appendJSONString(dst []byte, s string, esc escaper) []byte {
	if esc != nil {
		s = string(esc(nil, s))
	}
	return appendJSONText(dst, s)
}

// appendJSONText appends s as a JSON string: text already rendered into a buffer is written without
// a copy. Invalid UTF-8 becomes U+FFFD; <, > and & are not escaped (the receivers are not HTML).
func appendJSONText[T ~string | ~[]byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// decodeRune is utf8.DecodeRune of the start of s, a string or bytes.
func decodeRune[T ~string | ~[]byte](s T) (rune, int) {
	var b [utf8.UTFMax]byte
	return utf8.DecodeRune(b[:copy(b[:], s)])
}
