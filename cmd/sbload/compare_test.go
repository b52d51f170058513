package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// busyRelay answers 202 like the relay after hashing for a while, so that this process (standing in for
// the relay's pid) uses measurable CPU per webhook.
type busyRelay struct{ calls atomic.Int64 }

func (b *busyRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.calls.Add(1)
	sum := sha256.Sum256(nil)
	for range 2000 {
		sum = sha256.Sum256(sum[:])
	}
	w.WriteHeader(http.StatusAccepted)
}

// TestCompare runs the same load against a bare sink and a relay on two test servers and checks the rows:
// each server got the whole load, in order bare then relay, the ratio is the relay's acks/s over the bare
// sink's, and the relay's CPU per ack is measured.
func TestCompare(t *testing.T) {
	relay := &busyRelay{}
	relaySrv := httptest.NewServer(relay)
	defer relaySrv.Close()
	sink := newSinkServer(sinkOptions{status: http.StatusOK}, time.Now)
	// The bare run must be over before the relay gets its first call.
	var relayCallsDuringBare atomic.Int64
	bareSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		relayCallsDuringBare.Add(relay.calls.Load())
		sink.ServeHTTP(w, r)
	}))
	defer bareSrv.Close()

	const n = 300
	o := compareOptions{
		load: postOptions{concurrency: 4, count: n, startID: 1, seed: 1, timeout: 10 * time.Second,
			relayPID: os.Getpid()},
		bare:  bareSrv.URL + "/",
		relay: relaySrv.URL + "/webhooks/intellixent",
	}
	c, err := runCompare(context.Background(), o)
	if err != nil {
		t.Fatalf("runCompare: %v", err)
	}
	if c.Bare.Acked != n || c.Relay.Acked != n || !c.ok() {
		t.Fatalf("got %d bare and %d relay acks, ok %v; want %d each", c.Bare.Acked, c.Relay.Acked, c.ok(), n)
	}
	if got := sink.snapshot(false).Deliveries; got != n {
		t.Errorf("the bare sink got %d posts, want %d", got, n)
	}
	if relayCallsDuringBare.Load() != 0 {
		t.Errorf("the relay got calls while the bare sink was measured")
	}
	if want := c.Relay.AcksPerSec / c.Bare.AcksPerSec; c.Ratio != want || c.Ratio <= 0 {
		t.Errorf("ratio %v, want relay/bare acks per second = %v", c.Ratio, want)
	}
	if c.Bare.RelayPID != 0 || c.Relay.RelayPID != os.Getpid() {
		t.Errorf("relay pid: bare row %d, relay row %d; want 0 and %d", c.Bare.RelayPID, c.Relay.RelayPID, os.Getpid())
	}
	if c.Relay.RelayCPUPerAck <= 0 || math.Abs(c.Relay.RelayCPUPerAck*n-c.Relay.RelayCPU*1000) > 1e-6 {
		t.Errorf("relay CPU %.3fs, %.4f ms per ack over %d acks: want a positive time that adds up",
			c.Relay.RelayCPU, c.Relay.RelayCPUPerAck, n)
	}

	var text bytes.Buffer
	if err := c.print(&text, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== bare server (the ceiling)", "== relay", "relay CPU:", "\nbare ", "\nrelay "} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	var parsed comparison
	var js bytes.Buffer
	if err := c.print(&js, true); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &parsed); err != nil || parsed.Ratio != c.Ratio || parsed.Relay.RelayCPUPerAck != c.Relay.RelayCPUPerAck {
		t.Errorf("JSON report %s: %v, want the same ratio and CPU", js.String(), err)
	}
}
