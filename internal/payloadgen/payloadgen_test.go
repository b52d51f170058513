package payloadgen

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/call"
)

var fixedNow = func() time.Time { return time.Date(2026, 1, 15, 10, 32, 5, 123456000, time.UTC) }

// TestBodiesAreValidCalls checks that every body is valid JSON that Switchboard's own decoder accepts, carries
// its id, and stays within the size range, for ids of every width.
func TestBodiesAreValidCalls(t *testing.T) {
	g := New(1, fixedNow)
	ids := []int64{1, 12345, time.Now().UnixMicro(), math.MaxInt64}
	for i := range 1000 {
		id := ids[i%len(ids)]
		b, err := g.Body(id)
		if err != nil {
			t.Fatalf("body(%d): %v", id, err)
		}
		if len(b) < MinBodyBytes || len(b) > MaxBodyBytes {
			t.Errorf("body %d: got %d bytes, want %d-%d", i, len(b), MinBodyBytes, MaxBodyBytes)
		}
		if !json.Valid(b) {
			t.Fatalf("body %d: not valid JSON: %.200s", i, b)
		}
		c, err := call.Decode(b)
		if err != nil {
			t.Fatalf("body %d: call.Decode: %v", i, err)
		}
		if c.ID != id {
			t.Errorf("body %d: got id %d, want %d", i, c.ID, id)
		}
		if c.Status == "completed" && len(c.Transcript) < 2 {
			t.Errorf("body %d: completed call with %d turns, want at least 2", i, len(c.Transcript))
		}
	}
}

// TestMix checks the drawn proportions over many samples from a fixed seed.
func TestMix(t *testing.T) {
	const samples = 10000
	g := New(7, fixedNow)
	status := map[string]int{}
	quality := map[string]int{}
	completed := 0
	var small, large int
	for range samples {
		p, b, err := g.Draw(1)
		if err != nil {
			t.Fatal(err)
		}
		status[p.Status]++
		if p.Status == "completed" {
			completed++
			quality[p.ExtractedVariables["lead_quality"].(string)]++
		}
		switch n := len(b); {
		case n < 1500:
			small++
		case n > 15*1024:
			large++
		}
	}
	tests := []struct {
		name  string
		got   int
		of    int
		wantP float64
	}{
		{name: "completed", got: status["completed"], of: samples, wantP: 0.80},
		{name: "busy", got: status["busy"], of: samples, wantP: 0.12},
		{name: "failed", got: status["failed"], of: samples, wantP: 0.08},
		{name: "lead_quality high", got: quality["high"], of: completed, wantP: 0.15},
		{name: "lead_quality medium", got: quality["medium"], of: completed, wantP: 0.35},
		{name: "lead_quality low", got: quality["low"], of: completed, wantP: 0.50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := float64(tt.got) / float64(tt.of)
			if math.Abs(got-tt.wantP) > 0.015 {
				t.Errorf("got %.3f of calls, want %.2f ± 0.015", got, tt.wantP)
			}
		})
	}
	if len(status) != 3 {
		t.Errorf("got statuses %v, want only completed, busy and failed", status)
	}
	// The sizes spread over the whole range: a few percent at each end at least.
	if small < samples/20 || large < samples/50 {
		t.Errorf("got %d bodies under 1.5 KB and %d over 15 KiB of %d, want at least 5%% and 2%%", small, large, samples)
	}
}

// TestDeterministic checks that a seed fixes the payloads, and that different seeds differ.
func TestDeterministic(t *testing.T) {
	a, _ := New(3, fixedNow).Body(9)
	b, _ := New(3, fixedNow).Body(9)
	c, _ := New(4, fixedNow).Body(9)
	if string(a) != string(b) {
		t.Errorf("same seed: got different bodies, want equal")
	}
	if string(a) == string(c) {
		t.Errorf("different seeds: got equal bodies, want different")
	}
}

// TestTimes checks that created_at, finished_at and duration agree and use Intellixent's format.
func TestTimes(t *testing.T) {
	g := New(5, fixedNow)
	for i := range 200 {
		p, _, err := g.Draw(int64(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		created, err := time.Parse(TimeLayout, p.CreatedAt)
		if err != nil {
			t.Fatalf("created_at %q: %v", p.CreatedAt, err)
		}
		finished, err := time.Parse(TimeLayout, p.FinishedAt)
		if err != nil {
			t.Fatalf("finished_at %q: %v", p.FinishedAt, err)
		}
		if got, want := finished.Sub(created), time.Duration(p.Duration)*time.Second; got != want {
			t.Errorf("call %d: finished_at - created_at = %v, want duration %v", i, got, want)
		}
		for j, tr := range p.Transcript {
			if tr.Timestamp < float64(created.Unix())-1 || tr.Timestamp > float64(finished.Unix())+1 {
				t.Errorf("call %d turn %d: timestamp %.1f outside the call %s-%s", i, j, tr.Timestamp, p.CreatedAt, p.FinishedAt)
			}
		}
	}
}

// TestEncodedLengths checks the size estimates against encoding/json.
func TestEncodedLengths(t *testing.T) {
	tests := []struct {
		name string
		turn Turn
	}{
		{name: "plain", turn: Turn{Text: "Hello, this is Sarah.", Sender: "bot", Timestamp: 1756812511.3}},
		{name: "markup", turn: Turn{Text: "Tell <!channel> & <b>x</b>", Sender: "human", Timestamp: 1756812511}},
		{name: "escapes", turn: Turn{Text: "a \"quote\"\\ back\nslash\t\x01", Sender: "bot", Timestamp: 0.5}},
		{name: "non-ASCII", turn: Turn{Text: "Chloé Müller \u2028 ☎", Sender: "human", Timestamp: 1e9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := turnLen(tt.turn), encodedLen(tt.turn); got != want {
				t.Errorf("turnLen: got %d, want %d", got, want)
			}
			if got, want := stringLen(tt.turn.Text), encodedLen(tt.turn.Text); got != want {
				t.Errorf("stringLen: got %d, want %d", got, want)
			}
		})
	}
}

func BenchmarkBody(b *testing.B) {
	g := New(1, time.Now)
	var n int
	for i := 0; b.Loop(); i++ {
		body, err := g.Body(int64(i + 1))
		if err != nil {
			b.Fatal(err)
		}
		n += len(body)
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/body")
}
