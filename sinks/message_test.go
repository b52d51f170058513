package sinks

import (
	"errors"
	"testing"
)

func TestMessageSetKeepsTheOrder(t *testing.T) {
	m := Message(`{"text":"hi","blocks":[1],"to":["a@example.com"]}`)
	got, err := m.Set("text", "[test] hi")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"text":"[test] hi","blocks":[1],"to":["a@example.com"]}`; string(got) != want {
		t.Errorf("Set(text) = %s, want %s", got, want)
	}
	got, err = got.Set("headers", map[string]string{"X-Test": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"text":"[test] hi","blocks":[1],"to":["a@example.com"],"headers":{"X-Test":"true"}}`; string(got) != want {
		t.Errorf("Set(headers) = %s, want %s", got, want)
	}
	var to []string
	if found, err := got.Get("to", &to); !found || err != nil || len(to) != 1 || to[0] != "a@example.com" {
		t.Errorf("Get(to) = %v, %v, %v", to, found, err)
	}
	if found, err := got.Get("cc", &to); found || err != nil {
		t.Errorf("Get(cc) = %v, %v; want not found", found, err)
	}
}

func TestMessageDecodeErrorsArePermanent(t *testing.T) {
	for _, m := range []Message{nil, Message(`not json`)} {
		var v struct{ Text string }
		err := m.Decode(&v)
		var se *Error
		if !errors.As(err, &se) || se.Retryable || se.Reason != ReasonTemplate {
			t.Errorf("Decode(%q) = %v, want a permanent template error", m, err)
		}
	}
}
