//go:build ignore

// genfixture writes v0.db and v0.sent.json with the code of the version before the sink descriptors
// (commit 9f57da0, where sinks.Message was a struct): copy this file into a checkout of that commit
// and run `go run genfixture.go OUTDIR` from its root. v0.db holds two calls, each with one delivery
// per action of config.yaml: call 102's are dead (as if they failed before the upgrade), call 101's
// are pending. v0.sent.json is, for each delivery id, what that version's sink would have sent
// (its Preview). TestDeliversWhatThePreviousVersionStored sends them with today's sinks.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/registry"
	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/sqlite"
)

const cfgYAML = `
sinks:
  sales-slack: {type: slack, webhook_url: "https://hooks.slack.com/services/T0/B0/X"}
  crm: {type: webhook, url: "https://crm.example.com/hook"}
  mail: {type: email, smtp: {host: smtp.example.com, port: 2525, tls: none}, from: "Relay <relay@example.com>"}
  audit: {type: log}
rules:
  - name: hot-leads
    actions:
      - sink: sales-slack
        text: "Hot lead {{ customer_phone }}: {{ input_variables.name }}"
        blocks:
          - type: section
            text: {type: mrkdwn, text: "*{{ input_variables.name }}* wants a demo"}
          - type: actions
            elements:
              - {type: button, text: {type: plain_text, text: Listen}, url: "{{ recording_url }}"}
      - sink: crm
        headers: {X-Call-Id: "{{ id }}", X-Name: "{{ input_variables.name }}"}
        body: {phone: "{{ customer_phone }}", duration: "{{ duration }}", name: "{{ input_variables.name }}"}
      - sink: crm
      - sink: mail
        to: [sales@example.com, "{{ input_variables.email }}"]
        cc: boss@example.com
        subject: "Lead {{ customer_phone }}"
        text: "Call from {{ input_variables.name }}"
        html: "<p>{{ input_variables.name }}</p>"
      - sink: audit
        text: "lead {{ id }} <{{ input_variables.name }}>"
`

func callBody(id int) string {
	return fmt.Sprintf(`{"id": %d, "status": "completed", "customer_phone": "+1555000%04d", "duration": 61,
  "recording_url": "https://rec.example.com/%d.mp3?a=1&b=2",
  "input_variables": {"name": "Ann <A&B> \"Co\" 🔥", "email": "ann%d@example.com"}}`, id, id, id, id)
}

func main() {
	out := os.Args[1]
	ctx := context.Background()
	cfg, err := config.Parse(filepath.Join(out, "config.yaml"), []byte(cfgYAML), nil)
	check(err)
	rs, err := rules.Compile(cfg)
	check(err)
	st, err := sqlite.Open(filepath.Join(out, "v0.db"), sqlite.Options{})
	check(err)
	sent := map[int64]any{}
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, id := range []int{102, 101} {
		c, err := call.Decode([]byte(callBody(id)))
		check(err)
		res := rs.Evaluate(c)
		var ds []store.NewDelivery
		for _, a := range res.Actions {
			check(a.Err)
			// As router/ingest.go's encodeMessage stored it.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			check(enc.Encode(a.Message))
			ds = append(ds, store.NewDelivery{Rule: a.Rule, Action: a.Index, Sink: a.Sink, Message: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))})
		}
		ids, err := st.Ingest(ctx, &store.Call{ID: c.ID, ReceivedAt: at, Status: c.Status, Matched: res.Matched, Raw: c.Raw}, ds)
		check(err)
		for i, a := range res.Actions {
			s, err := registry.New(cfg.Sink(a.Sink), registry.Options{})
			check(err)
			var msg sinks.Message
			check(json.Unmarshal(ds[i].Message, &msg))
			p, err := s.Preview(&sinks.Delivery{ID: ids[i], CallID: c.ID, Rule: a.Rule, Action: a.Index, Attempt: 1, Message: &msg})
			check(err)
			sent[ids[i]] = map[string]any{"sink": a.Sink, "preview": p}
		}
		if id == 102 {
			for _, sink := range []string{"sales-slack", "crm", "mail", "audit"} {
				claimed, err := st.Claim(ctx, sink, "old", 10, time.Minute, at)
				check(err)
				for _, d := range claimed {
					check(st.Finish(ctx, d.ID, "old", store.Outcome{State: store.Dead,
						Attempt: store.Attempt{StartedAt: at, Result: "permanent", Reason: "client_error", Error: "400 before the upgrade"}}))
				}
			}
		}
	}
	check(st.Close())
	b, err := json.MarshalIndent(sent, "", "  ")
	check(err)
	check(os.WriteFile(filepath.Join(out, "v0.sent.json"), append(b, '\n'), 0o644))
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
