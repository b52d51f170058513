package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

// TestShutdownKeepsEveryAcknowledgedCall has several senders post webhooks back to back until the
// relay stops answering, and cancels the relay once some are acknowledged, while others are in flight:
// Run returns nil, and every call that was answered 202 is in the store with the deliveries its answer
// counted.
func TestShutdownKeepsEveryAcknowledgedCall(t *testing.T) {
	const senders, cancelAfter = 8, 30
	crm := newFakeCRM(t)
	r := startRelay(t, relayConfig, crm.srv.URL)

	type answer struct {
		id         int64
		status     int
		deliveries int
		err        error
	}
	var (
		mu       sync.Mutex
		answers  []answer
		accepted int
		enough   = make(chan struct{})
	)
	send := func(client *http.Client, id int64) answer {
		a := answer{id: id}
		body := fmt.Sprintf(`{"id": %d, "status": "completed", "extracted_variables": {"lead_quality": "high"}}`, id)
		req, err := http.NewRequest(http.MethodPost, r.base+"/webhooks/intellixent", strings.NewReader(body))
		if err != nil {
			a.err = err
			return a
		}
		req.Header.Set("Authorization", "Bearer "+ingestToken)
		resp, err := client.Do(req)
		if err != nil {
			a.err = err // refused once shutdown began: not acknowledged, so the sender retries
			return a
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		a.status, a.err = resp.StatusCode, err
		if a.status == http.StatusAccepted && err == nil {
			var reply struct{ Deliveries int }
			a.err = json.Unmarshal(raw, &reply)
			a.deliveries = reply.Deliveries
		}
		return a
	}
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			for k := int64(1); ; k++ {
				a := send(client, int64(s+1)*100000+k)
				mu.Lock()
				answers = append(answers, a)
				if a.status == http.StatusAccepted {
					if accepted++; accepted == cancelAfter {
						close(enough)
					}
				}
				mu.Unlock()
				if a.status != http.StatusAccepted {
					return
				}
			}
		})
	}
	<-enough
	if err := r.stop(); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	wg.Wait()

	st, err := sqlite.Open(r.db, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	var acked, refused int
	for _, a := range answers {
		if a.status != http.StatusAccepted {
			refused++
			if a.err == nil && a.status != http.StatusServiceUnavailable {
				t.Errorf("call %d: status %d, want 202, 503 or a refused connection", a.id, a.status)
			}
			continue
		}
		acked++
		if a.err != nil {
			t.Errorf("call %d: %v", a.id, a.err)
		}
		if _, err := st.GetCall(ctx, a.id); err != nil {
			t.Errorf("call %d was answered 202 but is not stored: %v", a.id, err)
			continue
		}
		ds, err := st.ListDeliveries(ctx, store.DeliveryFilter{CallID: a.id})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != a.deliveries || a.deliveries != 2 {
			t.Errorf("call %d: %d deliveries stored, answer said %d, want 2", a.id, len(ds), a.deliveries)
		}
	}
	if refused != senders {
		t.Errorf("%d requests not acknowledged, want %d (each sender stops at its first)", refused, senders)
	}
	t.Logf("%d calls acknowledged and stored, %d refused by the stopping relay", acked, refused)
}

// TestRunFailsToStart checks that Run reports a config that cannot be loaded, naming the problem.
func TestRunFailsToStart(t *testing.T) {
	tests := []struct {
		name    string
		config  string // "" means no file at all
		wantErr []string
	}{
		{name: "missing file", wantErr: []string{"load config", "read config"}},
		{name: "invalid config", config: relayConfig + brokenRules, wantErr: []string{"load config", "statuz", `"nowhere"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := dir + "/switchboard.yaml"
			if tt.config != "" {
				writeConfig(t, path, tt.config, "http://127.0.0.1:1", dir+"/sb.db")
			}
			logs := &sinktest.Buffer{}
			err := Run(context.Background(), Options{ConfigPath: path, Logger: newTestLogger(logs)})
			if err == nil {
				t.Fatal("Run = nil, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Run error = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}
