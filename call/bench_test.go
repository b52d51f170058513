package call

import (
	"os"
	"testing"
)

// BenchmarkDecode decodes a typical ~5 KB call (testdata/typical.json: 20 turns, filled variables).
func BenchmarkDecode(b *testing.B) {
	body, err := os.ReadFile("testdata/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
