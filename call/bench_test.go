package call

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used, garbage collection included. On a
// shared machine it varies less than the wall time per operation.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecode decodes a typical ~5 KB call (testdata/typical.json: 20 turns, filled variables) and the
// published example (testdata/example.json, 0.9 KB). cpu-ns/op is the process's CPU time per decode.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"typical", "example"} {
		body, err := os.ReadFile("testdata/" + name + ".json")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				if _, err := Decode(body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
