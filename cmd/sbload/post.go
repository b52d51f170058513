package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-relay/switchboard/internal/payloadgen"
)

// defaultCount is how many requests post sends when neither -n nor -d bounds it.
const defaultCount = 10000

// postOptions are the flags of `sbload post`.
type postOptions struct {
	url         string
	token       string // sent as "Authorization: Bearer"; never printed
	concurrency int
	count       int           // 0: unbounded (then duration bounds the run)
	duration    time.Duration // 0: unbounded (then count bounds the run)
	rate        rateFlag      // requests per second over all workers; 0: as fast as the server answers
	startID     int64
	seed        uint64
	acked       string // file for the ids that got a 2xx; "" for none
	timeout     time.Duration
	allowRemote bool
	json        bool
	relayPID    int // process whose CPU time per acknowledged webhook is reported; 0 for none
}

// rateFlag is a request rate written "N" or "N/s"; zero means unlimited.
type rateFlag float64

// String formats the rate as a plain number, for the flag package.
func (r *rateFlag) String() string { return strconv.FormatFloat(float64(*r), 'g', -1, 64) }

// Set parses "N" or "N/s"; a negative rate is an error.
func (r *rateFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || v < 0 {
		return errors.New("want a number of requests per second such as 200 or 200/s, or 0 for unlimited")
	}
	*r = rateFlag(v)
	return nil
}

// parsePost reads the flags of `sbload post`; errors say which flag to fix.
func parsePost(args []string, stderr io.Writer) (postOptions, error) {
	var o postOptions
	fs := flag.NewFlagSet("sbload post", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/webhooks/intellixent", "webhook `URL` to post to")
	fs.StringVar(&o.acked, "acked", "", "write the id of every call that got a 2xx to this `file`, one per line")
	addLoadFlags(fs, &o)
	if err := parseLoad(fs, args, &o); err != nil {
		return o, err
	}
	if err := checkTarget(o.url, o.allowRemote); err != nil {
		return o, fmt.Errorf("-url: %w", err)
	}
	return o, nil
}

// checkTarget accepts an http(s) URL whose host is loopback, or any host when allowRemote is set, so that a
// load test is never pointed at a production relay by accident.
func checkTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http:// or https:// URL")
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) || allowRemote {
		return nil
	}
	return fmt.Errorf("host %q is not loopback: pass -allow-remote to load a server you own", host)
}

// redactURL drops the query and user info, where a token may be.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// outcome is one request's result.
type outcome struct {
	id      int64
	status  int    // 0 when the request failed before a response
	errKind string // set when status is 0
	latency time.Duration
	bytes   int
}

// tally is what one worker saw; tallies are merged into a report.
type tally struct {
	latencies []time.Duration
	status    map[int]int
	errors    map[string]int
	acked     []int64
	bytes     int64
}

func newTally() *tally { return &tally{status: map[int]int{}, errors: map[string]int{}} }

func (t *tally) add(o outcome) {
	t.bytes += int64(o.bytes)
	if o.status == 0 {
		t.errors[o.errKind]++
		return
	}
	t.status[o.status]++
	t.latencies = append(t.latencies, o.latency)
	if o.status >= 200 && o.status < 300 {
		t.acked = append(t.acked, o.id)
	}
}

// runPost posts payloads until the count or duration is reached or ctx is cancelled, and returns what it saw.
// Requests in flight when the duration ends are completed; when ctx is cancelled they are abandoned and counted
// as errors. The acked file, when asked for, is written in every case.
func runPost(ctx context.Context, o postOptions) (*report, error) {
	var ackFile *os.File
	if o.acked != "" {
		f, err := os.Create(o.acked)
		if err != nil {
			return nil, fmt.Errorf("create acked file: %w", err)
		}
		ackFile = f
		defer f.Close()
	}
	client := &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			Proxy:               nil, // a load test measures the relay, not a proxy
			MaxIdleConns:        o.concurrency,
			MaxIdleConnsPerHost: o.concurrency,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	defer client.CloseIdleConnections()

	feedCtx, stop := context.WithCancel(ctx)
	if o.duration > 0 {
		feedCtx, stop = context.WithTimeout(ctx, o.duration)
	}
	defer stop()
	ids := make(chan int64)
	go feed(feedCtx, ids, o)

	var cpuBefore time.Duration
	if o.relayPID > 0 {
		var err error
		if cpuBefore, err = processCPU(o.relayPID); err != nil {
			return nil, err
		}
	}
	started := time.Now()
	tallies := make([]*tally, o.concurrency)
	var wg sync.WaitGroup
	for w := range o.concurrency {
		tallies[w] = newTally()
		gen := payloadgen.New(o.seed+uint64(w), time.Now)
		wg.Go(func() {
			for id := range ids {
				tallies[w].add(postOne(ctx, client, o, gen, id))
			}
		})
	}
	wg.Wait()
	r := merge(tallies, time.Since(started))
	r.Target = redactURL(o.url)
	if o.relayPID > 0 {
		cpuAfter, err := processCPU(o.relayPID)
		if err != nil {
			return r, err
		}
		r.setRelayCPU(o.relayPID, cpuAfter-cpuBefore)
	}
	if ackFile != nil {
		if err := writeAcked(ackFile, tallies); err != nil {
			return r, err
		}
	}
	return r, nil
}

// feed sends call ids, paced to o.rate when it is set, until the count is reached or ctx ends; then it closes ids.
func feed(ctx context.Context, ids chan<- int64, o postOptions) {
	defer close(ids)
	var interval time.Duration
	if o.rate > 0 {
		interval = time.Duration(float64(time.Second) / float64(o.rate))
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; o.count == 0 || i < o.count; i++ {
		if interval > 0 {
			// An absolute schedule: a worker that fell behind catches up instead of lowering the rate.
			timer.Reset(time.Until(start.Add(time.Duration(i) * interval)))
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case ids <- o.startID + int64(i):
		}
	}
}

// postOne sends one call and reads the whole answer.
func postOne(ctx context.Context, client *http.Client, o postOptions, gen *payloadgen.Generator, id int64) outcome {
	out := outcome{id: id}
	body, err := gen.Body(id)
	if err != nil {
		out.errKind = "encode payload"
		return out
	}
	out.bytes = len(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(body))
	if err != nil {
		out.errKind = "build request"
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sbload")
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	out.latency = time.Since(start)
	if err != nil {
		out.errKind = errorKind(ctx, err)
		return out
	}
	out.status = resp.StatusCode
	return out
}

// errorKind names a transport failure briefly, without the URL (which may hold a token in its query).
func errorKind(ctx context.Context, err error) string {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return "interrupted"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error() // "connection refused", "connection reset by peer"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection closed"
	}
	return err.Error()
}

// writeAcked writes every acknowledged id, ascending, one per line.
func writeAcked(f *os.File, tallies []*tally) error {
	var all []int64
	for _, t := range tallies {
		all = append(all, t.acked...)
	}
	slices.Sort(all)
	w := bufio.NewWriter(f)
	for _, id := range all {
		w.WriteString(strconv.FormatInt(id, 10))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write acked file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write acked file: %w", err)
	}
	return nil
}
