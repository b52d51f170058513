package storetest

import (
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// testHostileBytes stores a call whose payload values carry NUL bytes and invalid UTF-8 (JSON that
// decodes: "\u0000" escapes and raw bytes such as \xff inside strings) and the errors that quote them.
// Every store must accept it: the raw body and the message come back exactly, and text fields come
// back as store.CleanText made them.
func testHostileBytes(t *testing.T, s store.Store) {
	const hostile = "a\x00b\xff\xfe c"
	raw := []byte("{\"id\":9002,\"status\":\"a\\u0000b\xff\xfe c\",\"x\":\"\x00\"}")
	c := &store.Call{ID: 9002, ReceivedAt: t0, Status: hostile, Matched: []string{"r"}, Raw: raw}
	msg := []byte("{\"text\":\"a\\u0000b\xff\"}")
	doa := store.NewDelivery{Rule: "r", Action: 1, Sink: "a", Dead: true, Reason: "template", Error: "render: " + hostile}
	dids := mustIngest(t, s, c, store.NewDelivery{Rule: "r", Action: 0, Sink: "a", Message: msg}, doa)

	got, err := s.GetCall(t.Context(), c.ID)
	if err != nil {
		t.Fatalf("GetCall(%d) error = %v, want nil", c.ID, err)
	}
	if string(got.Raw) != string(raw) {
		t.Errorf("GetCall(%d).Raw = %q, want the body exactly: %q", c.ID, got.Raw, raw)
	}
	const clean = "a\uFFFDb\uFFFD c"
	if got.Status != clean {
		t.Errorf("GetCall(%d).Status = %q, want %q", c.ID, got.Status, clean)
	}
	if d := mustGet(t, s, dids[0]); string(d.Message) != string(msg) {
		t.Errorf("delivery %d message = %q, want %q", dids[0], d.Message, msg)
	}
	if d := mustGet(t, s, dids[1]); d.LastError != "render: "+clean {
		t.Errorf("dead-on-arrival delivery %d LastError = %q, want %q", dids[1], d.LastError, "render: "+clean)
	}

	mustClaim(t, s, "a", "w", 1, time.Minute, t0)
	o := outcome(store.Pending, t0, at(time.Minute))
	o.Attempt.Error = "unexpected status 503: " + hostile
	mustFinish(t, s, dids[0], "w", o)
	want := "unexpected status 503: " + clean
	if d := mustGet(t, s, dids[0]); d.LastError != want {
		t.Errorf("delivery %d LastError = %q, want %q", dids[0], d.LastError, want)
	}
	as, err := s.Attempts(t.Context(), dids[0])
	if err != nil || len(as) != 1 || as[0].Error != want {
		t.Errorf("Attempts(%d) = %+v, %v; want one attempt with error %q", dids[0], as, err, want)
	}
	if cs, err := s.ListCalls(t.Context(), store.CallFilter{}); err != nil || len(cs) != 1 || string(cs[0].Raw) != string(raw) {
		t.Errorf("ListCalls = %d calls, %v; want the call with its body exactly", len(cs), err)
	}
}
