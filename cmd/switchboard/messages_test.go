package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/sinks/slack"
)

// exampleEnvNames are the variables config.example.yaml reads.
var exampleEnvNames = []string{"SALES_SLACK_TYPE", "SLACK_SALES_WEBHOOK", "OPS_SLACK_TYPE", "SLACK_OPS_WEBHOOK", "CRM_TYPE",
	"CRM_WEBHOOK_URL", "CRM_TOKEN", "CRM_SIGNING_SECRET", "SALES_EMAIL_TYPE", "SMTP_HOST", "SMTP_PASSWORD",
	"SWITCHBOARD_TOKEN", "SWITCHBOARD_ADMIN_TOKEN"}

// initConfig runs `switchboard init` with flags into a fresh folder and returns the config's path.
func initConfig(t *testing.T, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "switchboard.yaml")
	if code, o, e := runCLI(t, "", append([]string{"init", "--out", out}, flags...)...); code != 0 {
		t.Fatalf("init: %s%s", o, e)
	}
	return out
}

// comparableAction is what an action sends, without the lines it was written on.
type comparableAction struct {
	Sink, Text, Subject, HTML string
	To                        []string
	Blocks, Body              any
}

func actionsOf(t *testing.T, file string, lookup func(string) (string, bool)) map[string][]comparableAction {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(file, data, lookup)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	decode := func(n *yaml.Node) any {
		if n == nil {
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	out := map[string][]comparableAction{}
	for _, r := range cfg.Rules {
		for _, a := range r.Actions {
			text := func(key string) string {
				if v := a.Value(key); v != nil {
					return v.Template.Text
				}
				return ""
			}
			tree := func(key string) any {
				if v := a.Value(key); v != nil {
					return decode(v.Tree)
				}
				return nil
			}
			c := comparableAction{Sink: a.Sink, Text: text("text"), Subject: text("subject"), HTML: text("html"),
				Blocks: tree("blocks"), Body: tree("body")}
			if v := a.Value("to"); v != nil {
				for _, to := range v.Templates {
					c.To = append(c.To, to.Text)
				}
			}
			out[r.Name] = append(out[r.Name], c)
		}
	}
	return out
}

// TestExampleMessagesAreInit: config.example.yaml's messages are the ones `switchboard init` writes
// (inittemplate.go is their one source): a change to one must be made to the other.
func TestExampleMessagesAreInit(t *testing.T) {
	isolateEnv(t, append(exampleEnvNames, initEnvNames...)...)
	generated := initConfig(t)
	env := readEnvFile(t, filepath.Join(filepath.Dir(generated), envFileName))
	fromInit := actionsOf(t, generated, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	example := actionsOf(t, repoFile("config.example.yaml"), func(string) (string, bool) { return "", false })
	for _, rule := range []string{"hot-leads", "failed-calls"} {
		t.Run(rule, func(t *testing.T) {
			got, want := example[rule], fromInit[rule]
			if len(got) != len(want) {
				t.Fatalf("config.example.yaml's %s has %d actions, init writes %d", rule, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("config.example.yaml's %s action %d differs from init's (copy it from a config init wrote):\n got  %+v\n want %+v",
						rule, i, got[i], want[i])
				}
			}
		})
	}
}

// hostile is a hot lead built to break a message: every value from the call long or full of Slack
// markup, an empty summary where a text must not be empty, values of unexpected types.
func hostileCalls(t *testing.T) map[string]map[string]any {
	t.Helper()
	markup := "<!channel> & *bold* _it_ <https://evil.example|click> é "
	long := func(n int) string { return strings.Repeat(markup, n/len([]rune(markup))+1) }
	hot := exampleCall(t, "hot-lead.json")
	calls := map[string]map[string]any{}
	with := func(name string, base map[string]any, set map[string]any) {
		c := maps.Clone(base)
		maps.Copy(c, set)
		calls[name] = c
	}
	with("huge values", hot, map[string]any{
		"customer_phone":       long(5000),
		"recording_url":        "https://rec.example.com/" + long(5000),
		"formatted_transcript": long(200000),
		"transcript":           long(200000),
		"extracted_variables":  map[string]any{"lead_quality": "high", "summary": long(100000), "next_action": long(5000)},
		"input_variables":      map[string]any{"customer_name": long(5000)},
	})
	with("markup in short values", hot, map[string]any{
		"input_variables":     map[string]any{"customer_name": "<!channel> Tom & *Jerry*"},
		"extracted_variables": map[string]any{"lead_quality": "high", "summary": "<!here> buy & *now*", "next_action": "<@U123>"},
	})
	with("empty and odd values", hot, map[string]any{
		"customer_phone":      nil,
		"recording_url":       "javascript:alert(1)",
		"extracted_variables": map[string]any{"lead_quality": "high", "summary": "", "next_action": 42},
		"input_variables":     map[string]any{"customer_name": map[string]any{"first": "Ann"}},
	})
	with("a failed call with huge values", exampleCall(t, "failed-call.json"), map[string]any{
		"customer_phone": long(5000), "input_variables": map[string]any{"customer_name": long(5000)},
	})
	return calls
}

func exampleCall(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(repoFile(filepath.Join("examples", name)))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// renderAll dry-runs call through config as `switchboard test --json` does (the server's rendering)
// and returns each action's message as JSON, by sink.
func renderAll(t *testing.T, config string, call map[string]any) (map[string][]byte, []string) {
	t.Helper()
	data, err := json.Marshal(call)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, string(data), "test", "--json", "--config", config, "-")
	if code != 0 {
		t.Fatalf("test exit = %d\n%s%s", code, stdout, stderr)
	}
	var res dryRunResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	out := map[string][]byte{}
	for _, a := range res.Actions {
		if a.Error != "" {
			t.Errorf("%s: %s", a.Sink, a.Error)
		}
		if out[a.Sink], err = json.Marshal(a.Message); err != nil {
			t.Fatal(err)
		}
	}
	return out, res.Matched
}

// TestMessagesWithinSlackLimits renders the Slack messages of config.example.yaml and of init's config
// for the example payloads and for hostile ones, as the server would send them, and validates each
// against Block Kit's documented limits; the ordinary ones must also say what a sales rep needs.
func TestMessagesWithinSlackLimits(t *testing.T) {
	isolateEnv(t, append(exampleEnvNames, initEnvNames...)...)
	for k, v := range map[string]string{"SALES_SLACK_TYPE": "slack", "SLACK_SALES_WEBHOOK": "https://hooks.slack.com/services/T/B/X",
		"OPS_SLACK_TYPE": "slack", "SLACK_OPS_WEBHOOK": "https://hooks.slack.com/services/T/B/Y", "SALES_EMAIL_TYPE": "email",
		"SMTP_PASSWORD": "pw"} {
		t.Setenv(k, v)
	}
	initFile := initConfig(t, "--slack-webhook", "https://hooks.slack.com/services/T/B/X",
		"--alerts-slack-webhook", "https://hooks.slack.com/services/T/B/Y",
		"--smtp-url", "smtp://relay:pw@smtp.example.com:587", "--email-to", "sales@example.com")
	configs := map[string]string{
		"config.example.yaml": repoFile("config.example.yaml"),
		"init":                initFile,
		// With server.public_url, the messages link the call's page in the web console.
		"config.example.yaml with public_url": withPublicURL(t, repoFile("config.example.yaml"), t.TempDir()),
		"init with public_url":                withPublicURL(t, initFile, filepath.Dir(initFile)),
	}
	hot := exampleCall(t, "hot-lead.json")
	noRecording := maps.Clone(hot)
	delete(noRecording, "recording_url")
	signed := maps.Clone(hot)
	signed["recording_url"] = "https://rec.example.com/a.mp3?X-Amz-Credential=AK%2F2026&X-Amz-Signature=abc123"

	type want struct {
		sink string
		has  []string // in the message's JSON, as decoded text
		not  []string
	}
	ordinary := []struct {
		name string
		call map[string]any
		want []want
	}{
		{"examples/hot-lead.json", hot, []want{
			{"sales-slack", []string{":fire: Hot lead: John Doe", "<tel:+1234567890|+1234567890>", "Customer interested in product demo",
				"schedule_demo", "2 min 5 s", `"type":"button"`, "Listen to the recording",
				`"url":"https://portal.intellixent.ai/storage/recordings/call-12345.mp4"`}, nil},
			{"sales-email", []string{"Hot lead: John Doe", "Next action", "schedule_demo", "2 min 5 s", `href="tel:+1234567890"`,
				"Listen to the recording", "Customer: Hi, thanks for calling."}, nil},
		}},
		{"no recording", noRecording, []want{
			{"sales-slack", []string{"No recording for this call."}, []string{"Listen to the recording", "Recording:"}},
			{"sales-email", []string{"No recording for this call."}, []string{"Listen to the recording"}},
		}},
		{"a signed recording URL reaches the button intact", signed, []want{
			{"sales-slack", []string{`"url":"https://rec.example.com/a.mp3?X-Amz-Credential=AK%2F2026&X-Amz-Signature=abc123"`}, nil},
		}},
		{"examples/failed-call.json", exampleCall(t, "failed-call.json"), []want{
			{"ops-slack", []string{":warning: Call", "ended *failed*"}, nil},
		}},
	}
	unescape := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\n`, "\n", `\"`, `"`)
	for cname, cfg := range configs {
		for _, tt := range ordinary {
			t.Run(cname+"/"+tt.name, func(t *testing.T) {
				msgs, _ := renderAll(t, cfg, tt.call)
				for _, w := range tt.want {
					msg, ok := msgs[w.sink]
					if !ok {
						t.Fatalf("no message to %s", w.sink)
					}
					text := unescape.Replace(string(msg))
					for _, s := range w.has {
						if !strings.Contains(text, s) {
							t.Errorf("%s lacks %q:\n%s", w.sink, s, text)
						}
					}
					for _, s := range w.not {
						if strings.Contains(text, s) {
							t.Errorf("%s has %q:\n%s", w.sink, s, text)
						}
					}
					if strings.HasSuffix(w.sink, "slack") {
						for _, p := range slack.ValidateMessage(msg) {
							t.Errorf("%s: Block Kit: %s", w.sink, p)
						}
					}
				}
				checkConsoleLink(t, cfg != configs["config.example.yaml"] && cfg != configs["init"], tt.call, msgs, unescape)
			})
		}
		for name, call := range hostileCalls(t) {
			t.Run(cname+"/"+name, func(t *testing.T) {
				msgs, matched := renderAll(t, cfg, call)
				if len(matched) != 1 {
					t.Fatalf("matched %q, want one rule", matched)
				}
				slackMsgs := 0
				for sink, msg := range msgs {
					if !strings.HasSuffix(sink, "slack") {
						continue
					}
					slackMsgs++
					for _, p := range slack.ValidateMessage(msg) {
						t.Errorf("%s: Block Kit: %s", sink, p)
					}
					if text := unescape.Replace(string(msg)); strings.Contains(text, "<!channel>") || strings.Contains(text, "<!here>") {
						t.Errorf("%s: a value from the call pings a channel:\n%.2000s", sink, text)
					}
				}
				if slackMsgs == 0 {
					t.Fatal("no Slack message rendered")
				}
			})
		}
	}
}

// TestInitWritesPassingTests: the config init writes carries tests for its rules, and they pass,
// whichever lead_quality values count as hot.
func TestInitWritesPassingTests(t *testing.T) {
	for _, flags := range [][]string{nil, {"--hot", "low,high"}} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			isolateEnv(t, initEnvNames...)
			out := initConfig(t, flags...)
			code, stdout, stderr := runCLI(t, "", "test", "--config", out)
			want := "ok  a hot lead goes to sales in Slack, to the CRM and by email\nok  a failed call goes to the alerts\n" +
				"ok  a lead that is not hot goes nowhere\n3 passed, 0 failed\n"
			if code != 0 || stdout != want {
				t.Errorf("test exit = %d\n%s%s\nwant exit 0 and\n%s", code, stdout, stderr, want)
			}
		})
	}
}

// publicURL is the server.public_url of the configs withPublicURL writes.
const publicURL = "https://sb.example.com"

// withPublicURL writes a copy of the config file into dir with server.public_url set, and returns
// its path. dir is the original's folder when the copy needs its switchboard.env.
func withPublicURL(t *testing.T, file, dir string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	before, after, ok := strings.Cut(string(data), "\nserver:\n")
	if !ok {
		t.Fatalf("%s has no server: block", file)
	}
	src := before + "\nserver:\n  public_url: " + publicURL + "/\n" + after
	out := filepath.Join(dir, "public-url.yaml")
	if err := os.WriteFile(out, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkConsoleLink checks the hot-lead messages of a rendered call: with server.public_url (public),
// the Slack message has an "Open in Switchboard" button to the call's page in the console, and the
// Slack text and the email (text and HTML) an "Open in Switchboard: URL" line; without it, none of them
// mentions the console.
func checkConsoleLink(t *testing.T, public bool, call map[string]any, msgs map[string][]byte, unescape *strings.Replacer) {
	t.Helper()
	id, ok := call["id"].(float64)
	if !ok {
		t.Fatalf("call id = %#v, want a number", call["id"])
	}
	link := fmt.Sprintf("%s/ui/calls/%d", publicURL, int64(id))
	want := map[string][]string{
		"sales-slack": {`{"text":{"text":"Open in Switchboard","type":"plain_text"},"type":"button","url":"` + link + `"}`,
			"Open in Switchboard: " + link},
		"sales-email": {"Open in Switchboard: " + link + "\n", `Open in Switchboard: <a href="` + link + `">` + link + `</a>`},
	}
	for sink, has := range want {
		msg, ok := msgs[sink]
		if !ok {
			continue // the call is not a hot lead
		}
		text := unescape.Replace(string(msg))
		for _, s := range has {
			if got := strings.Contains(text, s); got != public {
				t.Errorf("public_url set = %v, but %s has %q = %v:\n%s", public, sink, s, got, text)
			}
		}
		if !public && (strings.Contains(text, "Open in Switchboard") || strings.Contains(text, "/ui/calls/")) {
			t.Errorf("%s links the console without public_url:\n%s", sink, text)
		}
	}
}
