package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// testAttemptNumbers replays a delivery that died and checks that the replay gets the whole budget
// (Attempts starts again at 1) while the attempt history goes on numbering: 1, 2, then 3.
func testAttemptNumbers(t *testing.T, s store.Store) {
	id := mustIngest(t, s, newCall(1, t0), pending("r", 0, "a"))[0]
	mustClaim(t, s, "a", "w", 1, time.Minute, t0)
	mustFinish(t, s, id, "w", outcome(store.Pending, t0, at(time.Second)))
	mustClaim(t, s, "a", "w", 1, time.Minute, at(time.Second))
	mustFinish(t, s, id, "w", outcome(store.Dead, at(time.Second), time.Time{}))
	if n, err := s.Requeue(t.Context(), store.Selector{DeliveryID: id}, at(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Requeue(%d) = %d, %v; want 1, nil", id, n, err)
	}
	if d := mustGet(t, s, id); d.Attempts != 0 || d.AttemptNumber != 2 {
		t.Errorf("replayed delivery: Attempts %d AttemptNumber %d, want 0 and 2", d.Attempts, d.AttemptNumber)
	}
	got := mustClaim(t, s, "a", "w", 1, time.Minute, at(time.Hour))
	if len(got) != 1 || got[0].Attempts != 1 || got[0].AttemptNumber != 3 {
		t.Fatalf("Claim after replay = %+v, want the delivery at Attempts 1, AttemptNumber 3", got)
	}
	mustFinish(t, s, id, "w", outcome(store.Delivered, at(time.Hour), time.Time{}))
	as, err := s.Attempts(t.Context(), id)
	if err != nil {
		t.Fatalf("Attempts(%d) error = %v, want nil", id, err)
	}
	var numbers []int
	for _, a := range as {
		numbers = append(numbers, a.Number)
	}
	if want := []int{1, 2, 3}; !slices.Equal(numbers, want) {
		t.Errorf("attempt numbers = %v, want %v (they only grow, across a replay too)", numbers, want)
	}
}
