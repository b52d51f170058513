package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// sinkOptions are the flags of `sbload sink`.
type sinkOptions struct {
	listen     string
	status     int           // answer to a POST outside the failure window
	failFor    time.Duration // from start, POSTs are answered failStatus for this long
	failStatus int
	retryAfter int // seconds sent as Retry-After with failures; 0 sends none
	interval   time.Duration
}

// parseSink reads the flags of `sbload sink`; errors say which flag to fix.
func parseSink(args []string, stderr io.Writer) (sinkOptions, error) {
	var o sinkOptions
	fs := flag.NewFlagSet("sbload sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:9000", "`address` to listen on (port 0 picks a free one)")
	fs.IntVar(&o.status, "status", http.StatusOK, "HTTP `status` of every POST outside the failure window")
	fs.DurationVar(&o.failFor, "fail-for", 0, "answer -fail-status to every POST for this `duration` after start")
	fs.IntVar(&o.failStatus, "fail-status", http.StatusServiceUnavailable, "HTTP `status` during -fail-for")
	fs.IntVar(&o.retryAfter, "retry-after", 0, "`seconds` sent as Retry-After with every non-2xx answer; 0 sends none")
	fs.DurationVar(&o.interval, "interval", 5*time.Second, "print a summary this often when it changed")
	if err := fs.Parse(args); err != nil {
		return o, flagError{err}
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: every option is a flag", fs.Arg(0))
	}
	for _, s := range []struct {
		flag string
		v    int
	}{{"-status", o.status}, {"-fail-status", o.failStatus}} {
		if s.v < 200 || s.v > 599 {
			return o, fmt.Errorf("%s: want an HTTP status between 200 and 599, got %d", s.flag, s.v)
		}
	}
	if o.failFor < 0 || o.retryAfter < 0 || o.interval <= 0 {
		return o, errors.New("-fail-for, -retry-after and -interval must not be negative")
	}
	return o, nil
}

// sinkStats is the answer of GET /stats. A delivery is a POST answered with a 2xx; unique counts distinct
// Idempotency-Key values among deliveries and duplicates the deliveries whose key was delivered before, so
// deliveries = unique + duplicates + no_key. Failed counts POSTs answered with anything else: a failed attempt
// followed by a successful one is not a duplicate.
type sinkStats struct {
	Requests   int      `json:"requests"`
	Deliveries int      `json:"deliveries"`
	Unique     int      `json:"unique"`
	Duplicates int      `json:"duplicates"`
	Failed     int      `json:"failed"`
	NoKey      int      `json:"no_key"`
	Bytes      int64    `json:"bytes"`
	Keys       []string `json:"keys,omitzero"` // only with ?keys=1; then [] when none
}

// sinkServer answers deliveries like a Slack incoming webhook (200 "ok") or fails as configured, and counts
// them. It is safe for concurrent use.
type sinkServer struct {
	opts  sinkOptions
	now   func() time.Time
	start time.Time

	mu    sync.Mutex
	stats sinkStats
	keys  map[string]int // deliveries per Idempotency-Key
}

// newSinkServer returns a sink whose failure window starts now.
func newSinkServer(opts sinkOptions, now func() time.Time) *sinkServer {
	return &sinkServer{opts: opts, now: now, start: now(), keys: map[string]int{}}
}

// ServeHTTP counts a POST to any path, and answers GET /stats.
func (s *sinkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/stats":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.snapshot(r.URL.Query().Get("keys") == "1"))
	case r.Method == http.MethodPost:
		s.deliver(w, r)
	default:
		w.Header().Set("Allow", "POST (any path), GET /stats")
		http.Error(w, "POST a delivery to any path, or GET /stats", http.StatusMethodNotAllowed)
	}
}

func (s *sinkServer) deliver(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	status := s.opts.status
	if s.opts.failFor > 0 && s.now().Sub(s.start) < s.opts.failFor {
		status = s.opts.failStatus
	}
	key := r.Header.Get("Idempotency-Key")
	ok := status >= 200 && status < 300

	s.mu.Lock()
	s.stats.Requests++
	s.stats.Bytes += n
	switch {
	case !ok:
		s.stats.Failed++
	case key == "":
		s.stats.Deliveries++
		s.stats.NoKey++
	default:
		s.stats.Deliveries++
		if s.keys[key] > 0 {
			s.stats.Duplicates++
		} else {
			s.stats.Unique++
		}
		s.keys[key]++
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok && s.opts.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(s.opts.retryAfter))
	}
	w.WriteHeader(status)
	if ok {
		io.WriteString(w, "ok")
		return
	}
	io.WriteString(w, failureBody(status))
}

// failureBody is what Slack answers for status (docs/sinks.md, "type: slack"), or the status text.
func failureBody(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_payload"
	case http.StatusForbidden:
		return "action_prohibited"
	case http.StatusNotFound, http.StatusGone:
		return "no_service"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusInternalServerError:
		return "rollup_error"
	}
	return http.StatusText(status)
}

// snapshot copies the counts, with the delivered keys sorted when withKeys is set.
func (s *sinkServer) snapshot(withKeys bool) sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	if withKeys {
		st.Keys = slices.Sorted(maps.Keys(s.keys))
		if st.Keys == nil {
			st.Keys = []string{}
		}
	}
	return st
}

// String is the one-line summary the sink prints.
func (st sinkStats) String() string {
	return fmt.Sprintf("%d deliveries (%d unique, %d duplicates, %d without key), %d failed, %d requests",
		st.Deliveries, st.Unique, st.Duplicates, st.NoKey, st.Failed, st.Requests)
}

// runSink serves until ctx is cancelled, printing the listen address first, a summary every interval when it
// changed, and a final summary.
func runSink(ctx context.Context, o sinkOptions, stdout io.Writer) error {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	sink := newSinkServer(o, time.Now)
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "sbload sink: listening on http://%s (stats: GET /stats)\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	var last string
	for {
		select {
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case <-tick.C:
			if st := sink.snapshot(false).String(); st != last {
				fmt.Fprintf(stdout, "sbload sink: %s\n", st)
				last = st
			}
		case <-ctx.Done():
			shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := srv.Shutdown(shutCtx)
			fmt.Fprintf(stdout, "sbload sink: final: %s\n", sink.snapshot(false))
			if err != nil {
				return fmt.Errorf("shut down: %w", err)
			}
			return nil
		}
	}
}
