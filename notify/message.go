package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
	"github.com/switchboard-relay/switchboard/store"
)

// maxShown is how many dead deliveries a default message lists before "and N more".
const maxShown = 20

// Dead is one dead delivery as a notification shows it. Its JSON is the webhook body's entry, and
// its fields are the template variables of `deliveries`.
type Dead struct {
	CallID int64  `json:"call_id"`
	Rule   string `json:"rule"`
	Sink   string `json:"sink"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
	URL    string `json:"url,omitempty"`
}

// group is a dead_letters notification before it takes its sink's form.
type group struct {
	count int
	dead  []Dead // up to store.MaxListed
	sinks []string
}

// newGroup turns what FlushDead hands over into what a message shows: errors with phone numbers
// masked, and a link to each call when publicURL is set.
func newGroup(g store.DeadGroup, publicURL string, mask func(string) string) group {
	out := group{count: g.Total}
	for _, d := range g.Deliveries {
		e := Dead{CallID: d.CallID, Rule: d.Rule, Sink: d.Sink, Reason: d.LastReason, Error: mask(d.LastError)}
		if publicURL != "" && d.CallID != 0 {
			e.URL = publicURL + CallPath + strconv.FormatInt(d.CallID, 10)
		}
		out.dead = append(out.dead, e)
		if !slices.Contains(out.sinks, d.Sink) {
			out.sinks = append(out.sinks, d.Sink)
		}
	}
	return out
}

// subject is the email subject: "Switchboard: 3 deliveries to crm failed".
func (g group) subject() string {
	return fmt.Sprintf("Switchboard: %s to %s failed", plural(g.count, "delivery", "deliveries"), strings.Join(g.sinks, ", "))
}

// text is the default text: a headline, one line per delivery (up to maxShown), then "and N more".
// It is plain text: the sink type's Notice escapes it.
func (g group) text() string {
	var b strings.Builder
	b.WriteString(g.subject())
	b.WriteString("\n")
	for i, d := range g.dead {
		if i == maxShown {
			break
		}
		fmt.Fprintf(&b, "• call %d, rule %s, sink %s: %s: %s", d.CallID, d.Rule, d.Sink, d.Reason, d.Error)
		if d.URL != "" {
			b.WriteString(" " + d.URL)
		}
		b.WriteString("\n")
	}
	if more := g.count - min(len(g.dead), maxShown); more > 0 {
		fmt.Fprintf(&b, "and %d more\n", more)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// env is the template environment of the group.
func (g group) env() map[string]any {
	ds := make([]map[string]any, len(g.dead))
	for i, d := range g.dead {
		ds[i] = map[string]any{"call_id": d.CallID, "rule": d.Rule, "sink": d.Sink, "reason": d.Reason, "error": d.Error, "url": d.URL}
	}
	return map[string]any{"kind": KindDeadLetters, "sink": strings.Join(g.sinks, ", "), "count": g.count, "deliveries": ds}
}

// message renders the group as t's sink type shows a notice (spec.Descriptor.Notice). A custom
// text is rendered with its inserted values escaped as the type escapes its text action key.
func (g group) message(t *Target) (sinks.Message, error) {
	typ := catalog.Lookup(t.SinkType)
	if typ == nil {
		return nil, fmt.Errorf("notify.dead_letters: sink type %q is unknown", t.SinkType)
	}
	n := spec.Notice{Kind: KindDeadLetters, Subject: g.subject(), To: t.To}
	custom := ""
	if t.Text != nil {
		var err error
		if custom, err = t.Text.Render(g.env(), textEscaper(typ)); err != nil {
			return nil, fmt.Errorf("notify.dead_letters.text: %w", err)
		}
		n.Text, n.Markup = custom, true
	} else {
		n.Text = g.text()
	}
	shown := g.dead[:min(len(g.dead), maxShown)]
	event, err := json.Marshal(struct {
		Event      string `json:"event"`
		Count      int    `json:"count"`
		Text       string `json:"text,omitempty"`
		Deliveries []Dead `json:"deliveries"`
		More       int    `json:"more,omitempty"`
	}{KindDeadLetters, g.count, custom, shown, g.count - len(shown)})
	if err != nil {
		return nil, err
	}
	n.Event = event
	return typ.Notice(n)
}

// textEscaper is how typ escapes values from a call in its text action key; nil when it has none.
func textEscaper(typ *spec.Descriptor) spec.Escaper {
	for _, k := range catalog.ActionKeys(typ) {
		if k.Name == "text" {
			return k.Escape
		}
	}
	return nil
}

// plural says "1 delivery" or "3 deliveries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
