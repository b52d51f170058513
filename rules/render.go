package rules

import (
	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/sinks"
)

// RenderFirst renders, for c, the first action in file order that sends to sink, whether or not its
// rule's `when` matches c: the message `switchboard send-test` sends. ok is false when no rule has
// an action for sink. Like Evaluate, it never panics on call data.
func (rs *Ruleset) RenderFirst(c *call.Call, sink string) (a Action, ok bool) {
	if c == nil {
		c = &call.Call{}
	}
	for _, r := range rs.rules {
		for _, ca := range r.actions {
			if ca.sink != sink {
				continue
			}
			st := &state{env: make(map[string]any, len(envTypes)), call: c}
			fillEnv(st.env, c, rs.console)
			msg, err := ca.render(st)
			out := Action{Rule: r.name, Index: ca.index, Sink: ca.sink, SinkType: ca.sinkType, Message: msg}
			if err != nil {
				out.Message = nil
				out.Err = sinks.Permanent(sinks.ReasonTemplate, err)
			}
			return out, true
		}
	}
	return Action{}, false
}
