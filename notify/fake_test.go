package notify

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/store"
)

// memStore is store.Notifier in memory, following the contract the store conformance suite checks.
type memStore struct {
	mu     sync.Mutex
	deaths []death
	queued []store.Notification
}

type death struct {
	d  *store.Delivery
	at time.Time
}

func (m *memStore) die(d *store.Delivery, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d.State = store.Dead
	m.deaths = append(m.deaths, death{d, at})
}

func (m *memStore) AddNotification(_ context.Context, n store.Notification, _ time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queued = append(m.queued, n)
	return int64(len(m.queued)), nil
}

func (m *memStore) OldestDeath(context.Context) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.deaths) == 0 {
		return time.Time{}, false, nil
	}
	oldest := m.deaths[0].at
	for _, d := range m.deaths {
		if d.at.Before(oldest) {
			oldest = d.at
		}
	}
	return oldest, true, nil
}

func (m *memStore) FlushDead(_ context.Context, cutoff, _ time.Time, render func(store.DeadGroup) (*store.Notification, error)) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	due := false
	for _, d := range m.deaths {
		due = due || !d.at.After(cutoff)
	}
	if !due {
		return 0, nil
	}
	g := store.DeadGroup{Total: len(m.deaths)}
	for _, d := range m.deaths[:min(len(m.deaths), store.MaxListed)] {
		g.Deliveries = append(g.Deliveries, d.d)
	}
	n, err := render(g)
	if err != nil {
		return 0, err
	}
	if n != nil {
		m.queued = append(m.queued, *n)
	}
	m.deaths = nil
	return g.Total, nil
}

// notifications returns the queued notifications' messages.
func (m *memStore) notifications(t *testing.T) []notice {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]notice, len(m.queued))
	for i, n := range m.queued {
		if err := json.Unmarshal(n.Message, &out[i]); err != nil {
			t.Fatalf("notification %d: message %s is not a JSON object: %v", i, n.Message, err)
		}
	}
	return out
}

// notice is a rendered notification read with the keys of every built-in sink type's notice.
type notice struct {
	Text    string          `json:"text"`
	Subject string          `json:"subject"`
	To      []string        `json:"to"`
	Body    json.RawMessage `json:"body"`
}

// read reads a rendered notification; t fails when it is not a JSON object.
func read(t *testing.T, m sinks.Message, err error) notice {
	t.Helper()
	var n notice
	if err == nil {
		if jerr := json.Unmarshal(m, &n); jerr != nil {
			t.Fatalf("message %s is not a JSON object: %v", m, jerr)
		}
	}
	return n
}

// deadDelivery is a delivery of call id to sink that died of a 400.
func deadDelivery(id int64, sink string) *store.Delivery {
	return &store.Delivery{ID: id, CallID: id, Rule: "hot-leads", Sink: sink, State: store.Dead,
		LastReason: "client_error", LastError: "unexpected status 400 for lead +14155550123"}
}
