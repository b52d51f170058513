package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/sinks/spec"
	"github.com/switchboard-relay/switchboard/store"
)

type ruleAction struct {
	Sink, Type, Summary string
}

type ruleRow struct {
	Name    string
	Line    int
	When    string
	Stop    bool
	Actions []ruleAction
	Matches countLink
}

type tryAction struct {
	Rule, Sink, Type string
	Error            string
	Message          message
}

type tryResult struct {
	CallID  int64
	Error   string
	Why     []verdict
	Actions []tryAction
}

type rulesData struct {
	File    string
	Rules   []ruleRow
	Payload string
	Call    string
	Result  *tryResult
}

func (c *Console) rulesPage(r *http.Request) (rulesData, error) {
	rt := c.runtime()
	d := rulesData{File: rt.Config.File}
	var matches map[string]int
	since := c.opts.Now().UTC().Add(-24 * time.Hour)
	if c.console != nil {
		o, err := c.console.Overview(r.Context(), since)
		if err != nil {
			return d, err
		}
		matches = o.RuleMatches
	}
	for _, rule := range rt.Config.Rules {
		row := ruleRow{Name: rule.Name, Line: rule.Line, When: rule.When.Text, Stop: rule.Stop,
			Matches: countLink{Count: matches[rule.Name], Link: "/ui/calls?" + url.Values{"rule": {rule.Name}, "from": {formTime(since)}}.Encode()}}
		for _, a := range rule.Actions {
			ra := ruleAction{Sink: a.Sink}
			if sc := rt.Config.Sink(a.Sink); sc != nil {
				ra.Type = sc.Type
			}
			// What the action renders, not to whom: its keys in file order, recipients left out.
			var parts []string
			for _, v := range a.Values {
				if v.Kind != spec.ActionAddresses {
					parts = append(parts, v.Name)
				}
			}
			ra.Summary = strings.Join(parts, ", ")
			row.Actions = append(row.Actions, ra)
		}
		d.Rules = append(d.Rules, row)
	}
	return d, nil
}

func (c *Console) rules(w http.ResponseWriter, r *http.Request, a access) {
	d, err := c.rulesPage(r)
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	if s := r.URL.Query().Get("call"); s != "" {
		d.Call = s
		d.Result = c.tryStored(r, s)
	}
	c.render(w, r, http.StatusOK, "rules", a, "Rules", d)
}

func (c *Console) tryStored(r *http.Request, s string) *tryResult {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return &tryResult{Error: "A stored call is picked by its id, a positive number."}
	}
	sc, err := c.opts.Store.GetCall(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return &tryResult{Error: fmt.Sprintf("There is no call %d.", id)}
	}
	if err != nil {
		c.log.Error("console: read the store", "err", err)
		return &tryResult{Error: "The storage did not answer."}
	}
	return c.dryRun(sc.Raw)
}

// tryPayload is the dry run of a pasted payload or a stored call: nothing is stored or sent.
func (c *Console) tryPayload(w http.ResponseWriter, r *http.Request, a access) {
	d, err := c.rulesPage(r)
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	d.Payload, d.Call = r.PostFormValue("payload"), strings.TrimSpace(r.PostFormValue("call"))
	switch {
	case d.Call != "":
		d.Result = c.tryStored(r, d.Call)
	case strings.TrimSpace(d.Payload) != "":
		d.Result = c.dryRun([]byte(d.Payload))
	default:
		d.Result = &tryResult{Error: "Paste a call's JSON, or give a stored call's id."}
	}
	c.render(w, r, http.StatusOK, "rules", a, "Rules", d)
}

// dryRun evaluates body with the rules in force, as `switchboard test` does: the same decoding, the
// same rules.Evaluate and rules.Explain, and each sink's Preview. Nothing is sent.
func (c *Console) dryRun(body []byte) *tryResult {
	rt := c.runtime()
	cl, err := call.Decode(body)
	if err != nil {
		return &tryResult{Error: "invalid payload: " + err.Error()}
	}
	res := &tryResult{CallID: cl.ID}
	for _, v := range rt.Rules.Explain(cl) {
		res.Why = append(res.Why, verdict{Rule: v.Rule, Matched: v.Matched, Text: c.maskText(v.String())})
	}
	out := rt.Rules.Evaluate(cl)
	for _, a := range out.Actions {
		ta := tryAction{Rule: a.Rule, Sink: a.Sink, Type: a.SinkType}
		if a.Err != nil {
			ta.Error = a.Err.Error()
		} else {
			ta.Message = c.renderMessage(rt.Config, a.Sink, a.Rule, a.Index, cl.ID, a.Message)
		}
		res.Actions = append(res.Actions, ta)
	}
	return res
}
