package main

import (
	"crypto/sha256"
	"os"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	// A real line (from /proc/self/stat of cat), with utime 7 and stime 3 put in fields 14 and 15.
	const tail = " R 4315 4315 29779 0 -1 4194304 101 0 0 0 7 3 0 0 20 0 1 0 481711 3133440 393 18446744073709551615 0 0 0"
	tests := []struct {
		name    string
		stat    string
		want    uint64
		wantErr string
	}{
		{name: "plain name", stat: "4322 (switchboard)" + tail, want: 10},
		{name: "name with spaces and parentheses", stat: "4322 (a (b) ) c)" + tail, want: 10},
		{name: "large counts", stat: "1 (x) S 0 0 0 0 -1 0 0 0 0 0 123456789012 987654321098 0 0 20", want: 123456789012 + 987654321098},
		{name: "no name", stat: "4322 switchboard R 1 2 3", wantErr: "no command name"},
		{name: "too short", stat: "4322 (x) R 1 2 3", wantErr: "fields after the command name"},
		{name: "not a number", stat: "1 (x) S 0 0 0 0 -1 0 0 0 0 0 u 5 0 0 20", wantErr: "utime"},
		{name: "negative", stat: "1 (x) S 0 0 0 0 -1 0 0 0 0 0 5 -5 0 0 20", wantErr: "stime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.stat)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %d, %v; want an error containing %q", got, err, tt.wantErr)
				}
			case err != nil || got != tt.want:
				t.Errorf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// TestProcessCPU reads this test's own CPU time, burns CPU until the reading grows (the counter ticks every
// 10 ms), and checks that it never goes back.
func TestProcessCPU(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	after := before
	for i := 0; i < 1e7 && after == before; i++ {
		for range 1000 {
			sum = sha256.Sum256(sum[:])
		}
		if after, err = processCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after <= before {
		t.Errorf("CPU time went from %v to %v after hashing, want it to grow", before, after)
	}
	if _, err := processCPU(1 << 30); err == nil || !strings.Contains(err.Error(), "process 1073741824") {
		t.Errorf("a process that does not exist: got %v, want an error naming it", err)
	}
}
