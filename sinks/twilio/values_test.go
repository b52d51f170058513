package twilio

import (
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// values is a spec.Values over a map, with the defaults Spec declares, as the config loader gives
// them to Decode.
type values map[string]string

func (v values) Has(key string) bool { _, ok := v[key]; return ok }

func (v values) String(key string) string {
	if s, ok := v[key]; ok {
		return s
	}
	for _, k := range Spec.Keys {
		if k.Name == key {
			return k.Default
		}
	}
	return ""
}

func (v values) Secret(key string) spec.Secret { return spec.Secret(v.String(key)) }

func (v values) Duration(key string) time.Duration {
	d, _ := time.ParseDuration(v.String(key))
	return d
}

func (v values) Integer(key string) int {
	n, _ := strconv.Atoi(v.String(key))
	return n
}

func (v values) Boolean(key string) bool { return v.String(key) == "true" }

func (v values) Headers(string) map[string]spec.Secret { return nil }

// decodeOK decodes v and fails t on any problem.
func decodeOK(t *testing.T, v values) *Settings {
	t.Helper()
	set, problems := Spec.Decode(v)
	if len(problems) > 0 {
		t.Fatalf("Decode() problems = %+v", problems)
	}
	return set.(*Settings)
}
