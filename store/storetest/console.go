package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// RunConsole runs the conformance suite of store.Console: open must return a new, empty store that
// implements it (see Run).
func RunConsole(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Console, base store.Store)
	}{
		{"SearchCalls", testSearchCalls},
		{"SearchCallsPaging", testSearchCallsPaging},
		{"SearchCallsFromBody", testSearchCallsFromBody},
		{"SearchDeliveries", testSearchDeliveries},
		{"Overview", testOverview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			c, ok := s.(store.Console)
			if !ok {
				t.Fatalf("%T does not implement store.Console", s)
			}
			tt.fn(t, c, s)
		})
	}
}

// consoleCall returns a call with a phone, a duration and a status.
func consoleCall(id int64, received time.Time, phone, status string, matched ...string) *store.Call {
	c := newCall(id, received, matched...)
	c.CustomerPhone, c.Duration, c.Status = phone, id*10, status
	return c
}

func summaryIDs(cs []*store.CallSummary) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testSearchCalls(t *testing.T, s store.Console, base store.Store) {
	// Received out of id order: the list follows arrival.
	mustIngest(t, base, consoleCall(30, at(1*time.Minute), "+1 (555) 010-1234", "completed", "hot"),
		pending("hot", 0, "slack"), dead("hot", 1, "crm"))
	mustIngest(t, base, consoleCall(10, at(2*time.Minute), "+15550109999", "busy"))
	mustIngest(t, base, consoleCall(20, at(3*time.Minute), "+44 20 7946 1234", "completed", "hot", "all"),
		pending("all", 0, "slack"))
	mustIngest(t, base, consoleCall(1234, at(4*time.Minute), "", "failed", "all"))

	tests := []struct {
		name string
		q    store.CallQuery
		want []int64
	}{
		{"all, newest received first", store.CallQuery{}, []int64{1234, 20, 10, 30}},
		{"phone suffix", store.CallQuery{Q: "1234"}, []int64{1234, 20, 30}},
		{"longer phone suffix", store.CallQuery{Q: "010-1234"}, []int64{30}},
		{"whole phone", store.CallQuery{Q: "+15550109999"}, []int64{10}},
		{"call id", store.CallQuery{Q: "20"}, []int64{20}},
		{"no such phone", store.CallQuery{Q: "8888"}, []int64{}},
		{"not a number", store.CallQuery{Q: "john"}, []int64{}},
		{"status", store.CallQuery{Status: "completed"}, []int64{20, 30}},
		{"rule", store.CallQuery{Rule: "hot"}, []int64{20, 30}},
		{"rule and phone", store.CallQuery{Rule: "hot", Q: "01234"}, []int64{30}},
		{"matched yes", store.CallQuery{Matched: store.MatchedYes}, []int64{1234, 20, 30}},
		{"matched no", store.CallQuery{Matched: store.MatchedNo}, []int64{10}},
		{"from and to", store.CallQuery{From: at(2 * time.Minute), To: at(4 * time.Minute)}, []int64{20, 10}},
		{"limit", store.CallQuery{Limit: 1}, []int64{1234}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchCalls(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("SearchCalls(%+v) error = %v", tt.q, err)
			}
			if ids := summaryIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("SearchCalls(%+v) = %v, want %v", tt.q, ids, tt.want)
			}
		})
	}

	got, err := s.SearchCalls(t.Context(), store.CallQuery{Q: "010-1234"})
	if err != nil || len(got) != 1 {
		t.Fatalf("SearchCalls = %v, %v; want call 30", got, err)
	}
	c := got[0]
	if c.CustomerPhone != "+1 (555) 010-1234" || c.Duration != 300 || c.Status != "completed" ||
		!c.ReceivedAt.Equal(at(time.Minute)) || !slices.Equal(c.Matched, []string{"hot"}) {
		t.Errorf("call 30 = %+v, want its phone, duration 300, status, time and matched rules", c)
	}
	if c.Deliveries[store.Pending] != 1 || c.Deliveries[store.Dead] != 1 || len(c.Deliveries) != 2 {
		t.Errorf("call 30 deliveries = %v, want 1 pending and 1 dead", c.Deliveries)
	}
}

func testSearchCallsPaging(t *testing.T, s store.Console, base store.Store) {
	// Five calls, two received at the same instant: the cursor (received_at, id) breaks the tie.
	times := []time.Duration{1, 2, 2, 3, 4}
	for i, d := range times {
		mustIngest(t, base, consoleCall(int64(i+1), at(d*time.Minute), "", "completed", "r"))
	}
	for _, rule := range []string{"", "r"} {
		var seen []int64
		q := store.CallQuery{Limit: 2, Rule: rule}
		for range 5 {
			page, err := s.SearchCalls(t.Context(), q)
			if err != nil {
				t.Fatalf("SearchCalls error = %v", err)
			}
			if len(page) == 0 {
				break
			}
			seen = append(seen, summaryIDs(page)...)
			last := page[len(page)-1]
			q.BeforeTime, q.BeforeID = last.ReceivedAt, last.ID
		}
		if want := []int64{5, 4, 3, 2, 1}; !slices.Equal(seen, want) {
			t.Errorf("rule %q: pages = %v, want %v", rule, seen, want)
		}
	}
}

// testSearchCallsFromBody: a caller that does not set the indexed fields has them read from the body,
// whatever bytes it holds.
func testSearchCallsFromBody(t *testing.T, s store.Console, base store.Store) {
	mustIngest(t, base, &store.Call{ID: 7, ReceivedAt: at(0), Status: "completed",
		Raw: []byte(`{"id":7,"customer_phone":"+15550104321","duration":42,"status":"completed"}`)})
	mustIngest(t, base, &store.Call{ID: 8, ReceivedAt: at(time.Second), Status: "x",
		Raw: []byte("{\"id\":8,\"customer_phone\":\"+1555\xff\\u0000 0108765\"}")})
	mustIngest(t, base, &store.Call{ID: 9, ReceivedAt: at(2 * time.Second), Raw: []byte(`not json`)})
	got, err := s.SearchCalls(t.Context(), store.CallQuery{Q: "4321"})
	if err != nil || len(got) != 1 || got[0].CustomerPhone != "+15550104321" || got[0].Duration != 42 {
		t.Fatalf("SearchCalls(4321) = %v, %v; want call 7 with its phone and duration 42", got, err)
	}
	got, err = s.SearchCalls(t.Context(), store.CallQuery{Q: "8765"})
	if err != nil || len(got) != 1 || got[0].ID != 8 {
		t.Fatalf("SearchCalls(8765) = %v, %v; want call 8", got, err)
	}
	if all, err := s.SearchCalls(t.Context(), store.CallQuery{}); err != nil || len(all) != 3 {
		t.Fatalf("SearchCalls() = %d calls, %v; want 3", len(all), err)
	}
}

func testSearchDeliveries(t *testing.T, s store.Console, base store.Store) {
	a := mustIngest(t, base, newCall(1, at(0), "hot"), pending("hot", 0, "slack"), dead("hot", 1, "crm"))
	b := mustIngest(t, base, newCall(2, at(time.Hour), "hot", "all"), dead("hot", 0, "slack"), pending("all", 0, "crm"))
	tests := []struct {
		name string
		q    store.DeliveryQuery
		want []int64
	}{
		{"all, newest first", store.DeliveryQuery{}, []int64{b[1], b[0], a[1], a[0]}},
		{"state", store.DeliveryQuery{State: store.Dead}, []int64{b[0], a[1]}},
		{"sink", store.DeliveryQuery{Sink: "crm"}, []int64{b[1], a[1]}},
		{"rule", store.DeliveryQuery{Rule: "all"}, []int64{b[1]}},
		{"reason", store.DeliveryQuery{Reason: "template"}, []int64{b[0], a[1]}},
		{"call", store.DeliveryQuery{CallID: 1}, []int64{a[1], a[0]}},
		{"from", store.DeliveryQuery{From: at(time.Minute)}, []int64{b[1], b[0]}},
		{"to", store.DeliveryQuery{To: at(time.Minute)}, []int64{a[1], a[0]}},
		{"before", store.DeliveryQuery{BeforeID: b[0], Limit: 1}, []int64{a[1]}},
		{"state and sink", store.DeliveryQuery{State: store.Dead, Sink: "slack"}, []int64{b[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchDeliveries(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("SearchDeliveries(%+v) error = %v", tt.q, err)
			}
			if g := ids(got); !slices.Equal(g, tt.want) {
				t.Errorf("SearchDeliveries(%+v) = %v, want %v", tt.q, g, tt.want)
			}
			want := len(tt.want)
			if tt.q.Limit > 0 {
				return // a count ignores paging
			}
			if n, err := s.CountDeliveries(t.Context(), tt.q); err != nil || n != want {
				t.Errorf("CountDeliveries(%+v) = %d, %v; want %d", tt.q, n, err, want)
			}
		})
	}
}

func testOverview(t *testing.T, s store.Console, base store.Store) {
	mustIngest(t, base, newCall(1, at(-time.Hour), "hot"), dead("hot", 0, "crm")) // before the window
	mustIngest(t, base, newCall(2, at(0), "hot", "all"), pending("hot", 0, "slack"), dead("all", 0, "crm"))
	mustIngest(t, base, newCall(3, at(30*time.Minute)))
	mustIngest(t, base, newCall(4, at(5*time.Hour+time.Second), "all"), pending("all", 0, "crm"))
	mustIngest(t, base, newCall(5, at(24*time.Hour))) // after it
	o, err := s.Overview(t.Context(), at(0))
	if err != nil {
		t.Fatalf("Overview error = %v", err)
	}
	wantHours := make([]int, 24)
	wantHours[0], wantHours[5] = 2, 1
	if !slices.Equal(o.CallsPerHour, wantHours) || o.Calls != 3 || o.Unmatched != 1 {
		t.Errorf("calls = %v (%d, %d unmatched), want %v (3, 1 unmatched)", o.CallsPerHour, o.Calls, o.Unmatched, wantHours)
	}
	if len(o.RuleMatches) != 2 || o.RuleMatches["hot"] != 1 || o.RuleMatches["all"] != 2 {
		t.Errorf("rule matches = %v, want hot 1, all 2", o.RuleMatches)
	}
	if o.SinkStates["slack"][store.Pending] != 1 || o.SinkStates["crm"][store.Dead] != 1 || o.SinkStates["crm"][store.Pending] != 1 || len(o.SinkStates) != 2 {
		t.Errorf("sink states = %v, want slack 1 pending, crm 1 dead 1 pending", o.SinkStates)
	}
	if o.Dead != 2 || len(o.NewestDead) != 2 || o.NewestDead[0].CallID != 2 || o.NewestDead[1].CallID != 1 {
		t.Errorf("dead = %d %v, want 2, newest (call 2) first", o.Dead, o.NewestDead)
	}
}

// CheckBackfilled checks a store opened on a database written before the console's columns existed,
// holding the calls 1..n: call i with a phone ending in i (seven digits wide) and duration i, the even ones
// matching the rule "even", plus two calls whose bodies are not valid JSON text. The backfill must
// make them searchable like calls ingested since.
func CheckBackfilled(t *testing.T, s store.Console, n int) {
	t.Helper()
	tests := []struct {
		name string
		q    store.CallQuery
		want int
	}{
		{"phone of the last call", store.CallQuery{Q: fmt.Sprintf("%07d", n)}, 1},
		{"rule rows", store.CallQuery{Rule: "even", Limit: 1000}, n / 2},
		{"unmatched", store.CallQuery{Matched: store.MatchedNo, Limit: 1000}, n - n/2 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchCalls(t.Context(), tt.q)
			if err != nil || len(got) != tt.want {
				t.Fatalf("SearchCalls(%+v) = %d calls, %v; want %d", tt.q, len(got), err, tt.want)
			}
			if tt.want == 1 && got[0].Duration != int64(n) {
				t.Errorf("duration = %d, want %d", got[0].Duration, n)
			}
		})
	}
}
