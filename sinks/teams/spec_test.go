package teams

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks/sinktest"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// values is a spec.Values holding what the config loader would hand Decode.
type values map[string]string

func (v values) Has(key string) bool                   { _, ok := v[key]; return ok }
func (v values) String(key string) string              { return v[key] }
func (v values) Secret(key string) spec.Secret         { return spec.Secret(v[key]) }
func (v values) Integer(string) int                    { return 0 }
func (v values) Boolean(string) bool                   { return false }
func (v values) Headers(string) map[string]spec.Secret { return nil }
func (v values) Duration(key string) time.Duration {
	d, _ := time.ParseDuration(v[key])
	return d
}

// TestSpecBuildsAWorkingSink goes the way the config loader and the registry go: Decode the values,
// New the sink, send through it.
func TestSpecBuildsAWorkingSink(t *testing.T) {
	f, url := serve(t, workflows)
	set, problems := Spec.Decode(values{"webhook_url": url, "timeout": "10s"})
	if len(problems) > 0 {
		t.Fatalf("Decode() problems = %v", problems)
	}
	logger, logs := sinktest.NewLogger()
	s, err := Spec.New("sales-teams", set, spec.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sinktest.Delivery()); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("Teams saw %d requests, want 1", n)
	}
	sinktest.AssertNoSecrets(t, secrets, logs.String())
	if _, err := Spec.New("x", "not teams settings", spec.Options{Logger: slog.Default()}); err == nil {
		t.Error("New() with another type's settings = nil error")
	}
}

// TestSpecDeclaration checks what the config loader relies on: the URL a required secret, the
// timeout bounding one attempt, every action key escaped, text required.
func TestSpecDeclaration(t *testing.T) {
	keys := map[string]spec.Key{}
	for _, k := range Spec.Keys {
		keys[k.Name] = k
	}
	if k := keys["webhook_url"]; k.Kind != spec.KindSecretURL || !k.Required {
		t.Errorf("webhook_url = %+v, want a required KindSecretURL", k)
	}
	if k := keys["timeout"]; k.Kind != spec.KindDuration || !k.Timeout || k.Default != "10s" {
		t.Errorf("timeout = %+v, want a KindDuration Timeout defaulting to 10s", k)
	}
	want := map[string]spec.ActionKind{"text": spec.ActionTemplate, "title": spec.ActionTemplate, "facts": spec.ActionTemplateMap}
	for _, a := range Spec.ActionKeys {
		if kind, ok := want[a.Name]; !ok || kind != a.Kind || a.Escape == nil || a.Required != (a.Name == "text") {
			t.Errorf("action key %+v: want %v, escaped, required only for text", a, kind)
		}
		delete(want, a.Name)
	}
	if len(want) > 0 {
		t.Errorf("action keys missing: %v", want)
	}
	if Spec.DefaultRate != "4/s" || Spec.TestMark != "text" {
		t.Errorf("DefaultRate %q, TestMark %q; want 4/s and text", Spec.DefaultRate, Spec.TestMark)
	}
}
