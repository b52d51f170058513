package notify

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/store"
)

func maskAll(s string) string { return strings.ReplaceAll(s, "+14155550123", "+*******0123") }

// runNotifier starts a Notifier on m with dead_letters to a slack sink "ops", group_wait 30s, inside
// the current synctest bubble.
func runNotifier(t *testing.T, m *memStore) *Notifier {
	t.Helper()
	n := New(Options{Store: m, Mask: maskAll, Poll: time.Minute})
	n.Apply(&Settings{DeadLetters: &Target{Sink: "ops", SinkType: "slack", GroupWait: 30 * time.Second},
		PublicURL: "https://sb.example.com"})
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go n.Run(ctx)
	return n
}

func TestGroupWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &memStore{}
		n := runNotifier(t, m)
		start := time.Now()
		m.die(deadDelivery(1, "crm"), start)
		n.DeliveryFinished(deadDelivery(1, "crm"), store.Dead, "")
		time.Sleep(10 * time.Second)
		m.die(deadDelivery(2, "crm"), time.Now())
		n.DeliveryFinished(deadDelivery(2, "crm"), store.Dead, "")
		time.Sleep(20*time.Second - time.Millisecond)
		synctest.Wait()
		if got := m.notifications(t); len(got) != 0 {
			t.Fatalf("before group_wait: %d notifications, want none", len(got))
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		got := m.notifications(t)
		if len(got) != 1 {
			t.Fatalf("at group_wait: %d notifications, want 1 for both deaths", len(got))
		}
		for _, want := range []string{"2 deliveries to crm failed", "call 1, rule hot-leads, sink crm: client_error",
			"call 2,", "https://sb.example.com/ui/calls/1", "+*******0123"} {
			if !strings.Contains(got[0].Text, want) {
				t.Errorf("notification text %q does not contain %q", got[0].Text, want)
			}
		}
		if strings.Contains(got[0].Text, "+14155550123") {
			t.Errorf("notification text %q shows a phone number, want it masked", got[0].Text)
		}
		// A death after the flush starts a new window.
		m.die(deadDelivery(3, "crm"), time.Now())
		n.Wake()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if got := m.notifications(t); len(got) != 2 {
			t.Errorf("after a second window: %d notifications, want 2", len(got))
		}
	})
}

func TestDeathsWithoutDeadLettersAreForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &memStore{}
		n := New(Options{Store: m, Poll: time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go n.Run(ctx)
		m.die(deadDelivery(1, "crm"), time.Now())
		n.Wake()
		synctest.Wait()
		if _, ok, _ := m.OldestDeath(ctx); ok || len(m.notifications(t)) != 0 {
			t.Errorf("without dead_letters: deaths waiting %t, %d notifications; want none and none", ok, len(m.notifications(t)))
		}
	})
}

func TestManyDeathsOneMessage(t *testing.T) {
	g := store.DeadGroup{Total: 25}
	for i := range int64(25) {
		g.Deliveries = append(g.Deliveries, deadDelivery(i+1, "crm"))
	}
	m, err := newGroup(g, "", maskAll).message(&Target{Sink: "ops", SinkType: "slack"})
	if err != nil {
		t.Fatalf("message: %v", err)
	}
	msg := read(t, m, err)
	if lines := strings.Count(msg.Text, "\n• ") + strings.Count(msg.Text[:2], "• "); lines != 20 {
		t.Errorf("listed %d deliveries, want 20:\n%s", lines, msg.Text)
	}
	if !strings.HasSuffix(msg.Text, "and 5 more") || strings.Contains(msg.Text, "call 21,") {
		t.Errorf("text does not end with \"and 5 more\" after 20 deliveries:\n%s", msg.Text)
	}
}

func TestMessagePerSinkType(t *testing.T) {
	g := store.DeadGroup{Total: 3, Deliveries: []*store.Delivery{deadDelivery(12345, "crm"), deadDelivery(12346, "crm"), deadDelivery(12347, "crm")}}
	g.Deliveries[0].LastError = "bad <input> & more"
	tests := []struct {
		name   string
		target Target
		check  func(t *testing.T, text, subject string, to []string, body string)
	}{
		{"slack", Target{SinkType: "slack"}, func(t *testing.T, text, _ string, _ []string, _ string) {
			if !strings.Contains(text, "bad &lt;input&gt; &amp; more") {
				t.Errorf("slack text %q: want the error's <, > and & escaped", text)
			}
		}},
		{"email", Target{SinkType: "email", To: []string{"ops@example.com"}}, func(t *testing.T, text, subject string, to []string, _ string) {
			if subject != "Switchboard: 3 deliveries to crm failed" || len(to) != 1 || !strings.Contains(text, "call 12345") ||
				!strings.Contains(text, "bad <input> & more") {
				t.Errorf("email: subject %q to %v text %q", subject, to, text)
			}
		}},
		{"webhook", Target{SinkType: "webhook"}, func(t *testing.T, _, _ string, _ []string, body string) {
			want := `{"event":"dead_letters","count":3,"deliveries":[{"call_id":12345,"rule":"hot-leads","sink":"crm","reason":"client_error","error":"bad \u003cinput\u003e \u0026 more","url":"https://sb.example.com/ui/calls/12345"},`
			if !strings.HasPrefix(body, want) {
				t.Errorf("webhook body %s\nwant it to start with %s", body, want)
			}
		}},
		{"log", Target{SinkType: "log"}, func(t *testing.T, text, _ string, _ []string, _ string) {
			if !strings.HasPrefix(text, "Switchboard: 3 deliveries to crm failed\n• call 12345") {
				t.Errorf("log text %q", text)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newGroup(g, "https://sb.example.com", maskAll).message(&tt.target)
			if err != nil {
				t.Fatalf("message: %v", err)
			}
			msg := read(t, m, err)
			tt.check(t, msg.Text, msg.Subject, msg.To, string(msg.Body))
		})
	}
}

func TestCustomText(t *testing.T) {
	cfg := &config.Config{File: "f.yaml", Sinks: []*config.Sink{{Name: "ops", Type: "slack"}}}
	tests := []struct {
		name, text, want, wantErr string
	}{
		{name: "variables", text: "{{ count }} dead to {{ sink }} ({{ kind }}): {{ deliveries[0].call_id }} {{ deliveries[0].reason }} {{ deliveries[0].url }}",
			want: "2 dead to crm (dead_letters): 1 client_error https://sb.example.com/ui/calls/1"},
		{name: "escaped for slack", text: "{{ deliveries[0].error }}", want: "unexpected status 400 for lead +*******0123 &lt;x&gt;"},
		{name: "unknown name", text: "{{ cuont }}", wantErr: "f.yaml:3: notify.dead_letters.text:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg.Notify.DeadLetters = &config.DeadLettersNotify{Sink: "ops", GroupWait: time.Second, Text: config.Template{Text: tt.text, Line: 3}}
			s, err := Compile(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Compile error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			d := deadDelivery(1, "crm")
			d.LastError += " <x>"
			g := store.DeadGroup{Total: 2, Deliveries: []*store.Delivery{d, deadDelivery(2, "crm")}}
			m, err := newGroup(g, "https://sb.example.com", maskAll).message(s.DeadLetters)
			if msg := read(t, m, err); err != nil || msg.Text != tt.want {
				t.Errorf("text = %q, %v; want %q", msg.Text, err, tt.want)
			}
		})
	}
}

func TestSinkStateChanged(t *testing.T) {
	tests := []struct {
		name     string
		ev       SinkStateEvent
		want     string // text of the notification; empty for none
		sinkType string
	}{
		{name: "held", ev: SinkStateEvent{Sink: "crm", From: StateActive, To: StateHeld, LastError: "connection refused to +14155550123"},
			want: "Switchboard: sink crm is held", sinkType: "slack"},
		{name: "recovered", ev: SinkStateEvent{Sink: "crm", From: StateHeld, To: StateActive},
			want: "Switchboard: sink crm is active again", sinkType: "slack"},
		{name: "paused is not notified", ev: SinkStateEvent{Sink: "crm", From: StateActive, To: StatePaused}, sinkType: "slack"},
		{name: "resumed is not notified", ev: SinkStateEvent{Sink: "crm", From: StatePaused, To: StateActive}, sinkType: "slack"},
		{name: "the notification sink itself", ev: SinkStateEvent{Sink: "ops", From: StateActive, To: StateHeld}, sinkType: "slack"},
		{name: "email subject", ev: SinkStateEvent{Sink: "crm", From: StateActive, To: StateHeld},
			want: "Switchboard: sink crm is down", sinkType: "email"},
		{name: "webhook", ev: SinkStateEvent{Sink: "crm", From: StateHeld, To: StateActive, At: time.Unix(0, 0)},
			want: `{"event":"sink_down","sink":"crm","from":"held","to":"active","at":"1970-01-01T00:00:00Z"}`, sinkType: "webhook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memStore{}
			metrics := NewMetrics(nil)
			n := New(Options{Store: m, Mask: maskAll, Metrics: metrics})
			n.Apply(&Settings{SinkDown: &Target{Sink: "ops", SinkType: tt.sinkType, To: []string{"ops@example.com"}}})
			n.SinkStateChanged(tt.ev)
			got := m.notifications(t)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("%d notifications, want none", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d notifications, want 1", len(got))
			}
			if text := got[0].Text + got[0].Subject + string(got[0].Body); !strings.Contains(text, tt.want) || strings.Contains(text, "+14155550123") {
				t.Errorf("notification %q, want it to contain %q and no phone number", text, tt.want)
			}
			if m.queued[0].Kind != KindSinkDown || m.queued[0].Sink != "ops" {
				t.Errorf("queued kind %q sink %q, want sink_down to ops", m.queued[0].Kind, m.queued[0].Sink)
			}
			if c := testutil.ToFloat64(metrics.Notifications.WithLabelValues(KindSinkDown, OutcomeQueued)); c != 1 {
				t.Errorf("notifications_total{sink_down,queued} = %v, want 1", c)
			}
		})
	}
}

func TestDeliveryFinishedCounts(t *testing.T) {
	metrics := NewMetrics(nil)
	n := New(Options{Store: &memStore{}, Metrics: metrics})
	note := &store.Delivery{ID: 9, Rule: "notify:dead_letters", Sink: "ops"}
	n.DeliveryFinished(note, store.Delivered, "")
	n.DeliveryFinished(note, store.Dead, "401")
	n.DeliveryFinished(deadDelivery(1, "crm"), store.Dead, "")
	for _, c := range []struct {
		outcome string
		want    float64
	}{{OutcomeDelivered, 1}, {OutcomeDead, 1}, {OutcomeQueued, 0}} {
		if got := testutil.ToFloat64(metrics.Notifications.WithLabelValues(KindDeadLetters, c.outcome)); got != c.want {
			t.Errorf("notifications_total{dead_letters,%s} = %v, want %v", c.outcome, got, c.want)
		}
	}
}
