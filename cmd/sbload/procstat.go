package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: clock ticks of USER_HZ, which Linux fixes at 100
// per second for user space on every architecture Switchboard runs on.
const userHZ = 100

// processCPU returns the CPU time (user + system) that process pid has used so far, from /proc/pid/stat.
// Its resolution is 10 ms.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of process %d: %w", pid, err)
	}
	ticks, err := parseStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of process %d: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStat returns utime + stime, in clock ticks, from the contents of a /proc/PID/stat file. The second
// field, the command name in parentheses, may itself hold spaces and parentheses, so fields are counted
// from the last ')'.
func parseStat(stat string) (uint64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("unexpected /proc stat format: no command name")
	}
	// After the name: state (field 3), then ppid … utime is field 14 and stime field 15.
	fields := strings.Fields(stat[end+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("unexpected /proc stat format: %d fields after the command name", len(fields))
	}
	u, err := strconv.ParseUint(fields[utime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected /proc stat format: utime %q", fields[utime])
	}
	s, err := strconv.ParseUint(fields[stime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected /proc stat format: stime %q", fields[stime])
	}
	return u + s, nil
}
