package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/relay"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// testHeader marks a webhook request sent by send-test.
const testHeader = "X-Switchboard-Test"

// sendTestCmd sends one real message through a configured sink, right now, to prove its settings (a
// Slack webhook URL, an SMTP password) before going live: the first action that uses the sink,
// rendered from the given payload or the config's first test, whether or not its rule matches. It
// prints the receiver's answer and exits 0 when the message was accepted, 1 otherwise.
func sendTestCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send-test", stderr)
	cf := addConfigFlags(fs)
	sinkName := fs.String("sink", "", "the sink to send a test message through (required)")
	payload := fs.String("payload", "", "a JSON call to render the message from; default: the config's first test")
	if pos, err := parseInterleaved(fs, args); err != nil || len(pos) > 0 || *sinkName == "" {
		if err == nil && *sinkName == "" {
			fmt.Fprintln(stderr, "switchboard send-test: --sink is required")
		}
		fs.Usage()
		return errUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil)) // a log sink writes its message here
	configPath, err := cf.resolve()
	if err != nil {
		return err
	}
	loaded, err := relay.LoadUntested(configPath, logger)
	if err != nil {
		fmt.Fprintln(stderr, err.Error())
		return exitError{1}
	}
	cfg := loaded.Runtime.Config
	target := loaded.Targets[*sinkName]
	if target == nil {
		return fmt.Errorf("no sink is named %q (defined: %s)", *sinkName, strings.Join(sinkNames(cfg), ", "))
	}
	body, from, err := sendTestPayload(cfg, *payload)
	if err != nil {
		return err
	}
	c, err := call.Decode(body)
	if err != nil {
		return fmt.Errorf("%s is not a valid call: %w", from, err)
	}
	a, ok := loaded.Runtime.Rules.RenderFirst(c, *sinkName)
	if !ok {
		return fmt.Errorf("no rule has an action for sink %q: send-test sends the first action that uses it", *sinkName)
	}
	if a.Err != nil {
		return fmt.Errorf("the action of rule %s for sink %s fails to render from %s: %w", a.Rule, a.Sink, from, a.Err)
	}
	msg, err := markTest(target.Conf.Spec, a.Message)
	if err != nil {
		return fmt.Errorf("mark the message as a test: %w", err)
	}
	d := &sinks.Delivery{CallID: c.ID, Rule: a.Rule, Action: a.Index, Attempt: 1, Message: msg, TestAt: time.Now().Unix()}
	fmt.Fprintf(stdout, "sending a test message to %s (%s): rule %s, action %d, rendered from %s, Idempotency-Key %s\n",
		a.Sink, target.Conf.Type, a.Rule, a.Index, from, d.IdempotencyKey())
	var answer httpsink.Answer
	err = target.Sink.Send(httpsink.WithAnswer(context.Background(), &answer), d)
	if answer.Status != 0 {
		fmt.Fprintf(stdout, "answer: %d %s\n", answer.Status, answer.Summary)
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard send-test: not delivered: %v\n", sinks.Classify(err))
		return exitError{1}
	}
	switch target.Conf.Type {
	case "email":
		fmt.Fprintln(stdout, "delivered: the SMTP server accepted the message")
	case "log":
		fmt.Fprintln(stdout, "delivered: written to the log (a log sink sends nothing)")
	default:
		fmt.Fprintln(stdout, "delivered")
	}
	return nil
}

// markTest marks m as a test message by its type's TestMark key (spec.Descriptor.TestMark): "[test] "
// before a text (Slack's, the log's text, an email's subject), or the X-Switchboard-Test header among
// a webhook request's headers.
func markTest(t *spec.Descriptor, m sinks.Message) (sinks.Message, error) {
	if t == nil || t.TestMark == "" {
		return m, nil
	}
	kind := spec.ActionTemplate
	for _, k := range catalog.ActionKeys(t) {
		if k.Name == t.TestMark {
			kind = k.Kind
		}
	}
	if kind == spec.ActionTemplateMap {
		entries := map[string]string{}
		if _, err := m.Get(t.TestMark, &entries); err != nil {
			return nil, err
		}
		entries[testHeader] = "true"
		return m.Set(t.TestMark, entries)
	}
	var text string
	if _, err := m.Get(t.TestMark, &text); err != nil {
		return nil, err
	}
	return m.Set(t.TestMark, strings.TrimSpace("[test] "+text))
}

// sendTestPayload returns the call to render from: the file given, or the config's first test.
func sendTestPayload(cfg *config.Config, file string) (body []byte, from string, err error) {
	if file != "" {
		body, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("read payload: %w", err)
		}
		return body, file, nil
	}
	if len(cfg.Tests) == 0 {
		return nil, "", fmt.Errorf("no payload: give --payload FILE, or write tests: in the config (the first test's call is used)")
	}
	t := cfg.Tests[0]
	from = fmt.Sprintf("test %q", t.Name)
	if t.Payload == "" {
		return t.Call, from, nil
	}
	body, err = os.ReadFile(t.Payload)
	if err != nil {
		return nil, "", fmt.Errorf("read the payload of %s: %w", from, err)
	}
	return body, from, nil
}

func sinkNames(cfg *config.Config) []string {
	var names []string
	for _, s := range cfg.Sinks {
		names = append(names, s.Name)
	}
	return names
}
