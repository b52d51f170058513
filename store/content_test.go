package store

import "testing"

func TestSameContent(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "identical", a: `{"id":1,"status":"completed"}`, b: `{"id":1,"status":"completed"}`, want: true},
		{name: "key order and whitespace", a: `{"id":1,"status":"completed","x":{"b":2,"a":[1, 2]}}`,
			b: "{ \"x\": {\"a\": [1,2], \"b\": 2},\n \"status\": \"completed\", \"id\": 1 }", want: true},
		{name: "escapes", a: `{"s":"é<"}`, b: `{"s":"\u00e9\u003c"}`, want: true},
		{name: "value differs", a: `{"id":1,"status":"completed"}`, b: `{"id":1,"status":"failed"}`, want: false},
		{name: "key added", a: `{"id":1}`, b: `{"id":1,"x":null}`, want: false},
		{name: "array order", a: `{"t":[1,2]}`, b: `{"t":[2,1]}`, want: false},
		{name: "number as written", a: `{"d":1}`, b: `{"d":1.0}`, want: false},
		{name: "big numbers kept exact", a: `{"d":12345678901234567890}`, b: `{"d":12345678901234567891}`, want: false},
		{name: "not JSON, same bytes", a: "\x00\xff", b: "\x00\xff", want: true},
		{name: "not JSON, other bytes", a: "{", b: "{ ", want: false},
		{name: "trailing document", a: `{"id":1}`, b: `{"id":1} {"id":2}`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameContent([]byte(tt.a), []byte(tt.b)); got != tt.want {
				t.Errorf("SameContent(%q, %q) = %t, want %t", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
