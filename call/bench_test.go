package call

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user and system) used by this process so far, garbage collection included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecode decodes a typical ~5 KB call (testdata/typical.json: 20 turns, filled variables) and the
// published example (testdata/example.json, 0.9 KB).
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"typical", "example"} {
		body, err := os.ReadFile("testdata/" + name + ".json")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/fast", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				if _, ok := decodeFast(body, bytes.TrimSpace(body)); !ok {
					b.Fatal("declined")
				}
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
		b.Run(name+"/v2", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				if _, err := decodeObject(body, bytes.TrimSpace(body)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
