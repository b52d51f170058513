package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is the result of a post run. Latencies are of answered requests only: from the request being sent to
// the whole answer read.
type report struct {
	Target     string         `json:"target"`
	Requests   int            `json:"requests"`
	Acked      int            `json:"acked"`
	Errors     int            `json:"errors"`
	Seconds    float64        `json:"seconds"`
	PerSec     float64        `json:"requests_per_second"`
	Status     map[string]int `json:"status"`
	ErrKinds   map[string]int `json:"errors_by_kind,omitempty"`
	Bytes      int64          `json:"bytes_sent"`
	Latency    latencies      `json:"ack_latency_ms"`
	AcksPerSec float64        `json:"acks_per_second"`
	// RelayPID, RelayCPU and RelayCPUPerAck are set with -relay-pid: the CPU time (user + system) that process
	// used from the first request to the last answer, in seconds, and that time per acknowledged webhook in
	// milliseconds (0 when none was acknowledged).
	RelayPID       int     `json:"relay_pid,omitempty"`
	RelayCPU       float64 `json:"relay_cpu_seconds,omitempty"`
	RelayCPUPerAck float64 `json:"relay_cpu_ms_per_ack,omitempty"`
}

// setRelayCPU records that process pid used cpu during the run.
func (r *report) setRelayCPU(pid int, cpu time.Duration) {
	r.RelayPID, r.RelayCPU = pid, cpu.Seconds()
	if r.Acked > 0 {
		r.RelayCPUPerAck = float64(cpu.Microseconds()) / 1000 / float64(r.Acked)
	}
}

// latencies are percentiles in milliseconds.
type latencies struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// ok reports whether every request was answered with a 2xx.
func (r *report) ok() bool { return r.Requests > 0 && r.Acked == r.Requests }

// merge combines the workers' tallies of a run that took elapsed.
func merge(tallies []*tally, elapsed time.Duration) *report {
	r := &report{Status: map[string]int{}, ErrKinds: map[string]int{}, Seconds: elapsed.Seconds()}
	var lat []time.Duration
	for _, t := range tallies {
		lat = append(lat, t.latencies...)
		for code, n := range t.status {
			r.Status[strconv.Itoa(code)] += n
			r.Requests += n
		}
		for kind, n := range t.errors {
			r.ErrKinds[kind] += n
			r.Errors += n
			r.Requests += n
		}
		r.Acked += len(t.acked)
		r.Bytes += t.bytes
	}
	if elapsed > 0 {
		r.PerSec = float64(r.Requests) / elapsed.Seconds()
		r.AcksPerSec = float64(r.Acked) / elapsed.Seconds()
	}
	slices.Sort(lat)
	r.Latency = latencies{
		P50: ms(percentile(lat, 0.50)),
		P90: ms(percentile(lat, 0.90)),
		P99: ms(percentile(lat, 0.99)),
	}
	if len(lat) > 0 {
		r.Latency.Max = ms(lat[len(lat)-1])
	}
	return r
}

// percentile is the nearest-rank percentile p (0 < p <= 1) of sorted; zero for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// print writes the report for people, or as one JSON object when asJSON is set.
func (r *report) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "target:      %s\n", r.Target)
	fmt.Fprintf(&b, "requests:    %d in %.2fs (%.1f req/s), %d acked (2xx), %d errors\n",
		r.Requests, r.Seconds, r.PerSec, r.Acked, r.Errors)
	if r.Requests > 0 {
		fmt.Fprintf(&b, "sent:        %.1f MB, %.1f KB per request\n",
			float64(r.Bytes)/1e6, float64(r.Bytes)/float64(r.Requests)/1e3)
	}
	fmt.Fprintf(&b, "status:      %s\n", counts(r.Status))
	if len(r.ErrKinds) > 0 {
		fmt.Fprintf(&b, "errors:      %s\n", counts(r.ErrKinds))
	}
	fmt.Fprintf(&b, "ack latency: p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n",
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	if r.RelayPID > 0 {
		fmt.Fprintf(&b, "relay CPU:   %.3f ms per acked webhook (%.2fs of CPU over %d acks, pid %d)\n",
			r.RelayCPUPerAck, r.RelayCPU, r.Acked, r.RelayPID)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// counts formats a count map as "k=v k=v" in key order, or "none".
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
