package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-relay/switchboard/call"
	"github.com/switchboard-relay/switchboard/phone"
	"github.com/switchboard-relay/switchboard/store"
)

type kv struct{ Key, Value string }

type turn struct {
	Speaker string
	Class   string
	At      string
	Text    string
}

type verdict struct {
	Rule    string
	Matched bool
	Text    string
	// Stored is whether the rule matched when the call was received.
	Stored bool
}

type attemptRow struct {
	Number     int
	StartedAt  string
	Duration   string
	Result     string
	StatusCode int
	Reason     string
	Error      string
}

type deliveryView struct {
	*store.Delivery
	Type        string
	Message     message
	Attempts    []attemptRow
	NextAttempt string
	CanRetry    bool
}

type callData struct {
	ID            int64
	ReceivedAt    string
	Status        string
	Duration      string
	CreatedAt     string
	FinishedAt    string
	Customer      string
	Assistant     string
	Recording     string
	Extracted     []kv
	Input         []kv
	Lead          []kv
	Transcript    []turn
	TranscriptCut int // turns not shown
	// TranscriptTrimmed is set when a turn was shortened.
	TranscriptTrimmed bool
	DecodeError       string
	Stored            []string
	Why               []verdict
	ConfigChanged     bool
	Deliveries        []deliveryView
	AnyDead           bool
	Back              string
}

// maxTurns and maxTranscript bound the transcript shown on a call's page.
const (
	maxTurns      = 400
	maxTranscript = 48 << 10
)

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// storedCall reads the call named by the request's {id}, or answers with the page that says why not
// (a bad id, no such call, the store failing) and returns false.
func (c *Console) storedCall(w http.ResponseWriter, r *http.Request) (*store.Call, bool) {
	id, ok := pathID(r)
	if !ok {
		c.fail(w, r, http.StatusNotFound, "A call id is a positive number.")
		return nil, false
	}
	sc, err := c.opts.Store.GetCall(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no call %d: it was never received, or it was purged.", id))
		return nil, false
	}
	if err != nil {
		c.storeFailed(w, r, err)
		return nil, false
	}
	return sc, true
}

func (c *Console) call(w http.ResponseWriter, r *http.Request, a access) {
	sc, ok := c.storedCall(w, r)
	if !ok {
		return
	}
	id := sc.ID
	ds, err := c.opts.Store.ListDeliveries(r.Context(), store.DeliveryFilter{CallID: id, Limit: 1000})
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	rt := c.runtime()
	d := callData{ID: sc.ID, ReceivedAt: fmtTime(sc.ReceivedAt), Status: sc.Status, Stored: sc.Matched, Back: fmt.Sprintf("/ui/calls/%d", id)}
	cl, err := call.Decode(sc.Raw)
	if err != nil {
		d.DecodeError = err.Error()
	} else {
		c.fillCall(&d, cl)
		for _, v := range rt.Rules.Explain(cl) {
			stored := slices.Contains(sc.Matched, v.Rule)
			d.Why = append(d.Why, verdict{Rule: v.Rule, Matched: v.Matched, Text: c.maskText(v.String()), Stored: stored})
			if stored != v.Matched {
				d.ConfigChanged = true
			}
		}
		for _, m := range sc.Matched {
			if !slices.Contains(rt.Rules.RuleNames(), m) {
				d.ConfigChanged = true
			}
		}
	}
	for _, dl := range ds {
		v := deliveryView{Delivery: dl, Message: c.renderMessage(rt.Config, dl.Sink, dl.Rule, dl.Action, dl.CallID, dl.Message)}
		v.Type = v.Message.Kind
		dl.LastError = c.maskText(dl.LastError)
		if dl.State == store.Pending {
			v.NextAttempt = fmtTime(dl.NextAttemptAt)
		}
		v.CanRetry = dl.State != store.InFlight && dl.State != store.Pending
		if dl.State == store.Dead {
			d.AnyDead = true
		}
		as, err := c.opts.Store.Attempts(r.Context(), dl.ID)
		if err != nil {
			c.storeFailed(w, r, err)
			return
		}
		for _, at := range as {
			v.Attempts = append(v.Attempts, attemptRow{Number: at.Number, StartedAt: fmtTime(at.StartedAt), Duration: fmtDuration(at.Duration),
				Result: at.Result, StatusCode: at.StatusCode, Reason: at.Reason, Error: c.maskText(at.Error)})
		}
		d.Deliveries = append(d.Deliveries, v)
	}
	c.render(w, r, http.StatusOK, "call", a, fmt.Sprintf("Call %d", id), d)
}

func (c *Console) fillCall(d *callData, cl *call.Call) {
	d.Duration = fmtSeconds(cl.Duration)
	d.CreatedAt, d.FinishedAt = callTime(cl.CreatedAt), callTime(cl.FinishedAt)
	if cl.CustomerPhone != nil {
		d.Customer = c.showPhone(*cl.CustomerPhone)
	} else {
		d.Customer = "unknown"
	}
	if cl.AssistantPhone != nil {
		d.Assistant = c.showPhone(*cl.AssistantPhone)
	} else {
		d.Assistant = "unknown"
	}
	if u, err := url.Parse(cl.RecordingURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		d.Recording = cl.RecordingURL
	}
	d.Extracted = c.table(cl.ExtractedVariables)
	d.Input = c.table(cl.InputVariables)
	d.Lead = c.table(cl.Lead)
	var first float64
	size := 0
	for i, t := range cl.Transcript {
		if i >= maxTurns || size > maxTranscript {
			d.TranscriptCut = len(cl.Transcript) - i
			break
		}
		tv := turn{Text: c.maskText(t.Text)}
		if len(tv.Text) > maxTranscript-size {
			tv.Text, _ = cut(tv.Text, maxTranscript-size)
			tv.Text += " …"
			d.TranscriptTrimmed = true
		}
		size += len(tv.Text)
		switch t.Sender {
		case "bot":
			tv.Speaker, tv.Class = "Assistant", "bot"
		case "human":
			tv.Speaker, tv.Class = "Customer", "human"
		case "":
			tv.Speaker, tv.Class = "Transcript", "plain"
		default:
			tv.Speaker, tv.Class = t.Sender, "plain"
		}
		if t.Timestamp > 0 {
			if first == 0 {
				first = t.Timestamp
			}
			off := time.Duration((t.Timestamp - first) * float64(time.Second))
			tv.At = fmt.Sprintf("%d:%02d", int(off.Minutes()), int(off.Seconds())%60)
		}
		d.Transcript = append(d.Transcript, tv)
	}
}

// maskText masks phone numbers inside free text unless log.show_phone_numbers is set.
func (c *Console) maskText(s string) string {
	if c.runtime().Config.Log.ShowPhoneNumbers {
		return s
	}
	return phone.MaskAll(s)
}

// table lists a map's entries by key; values that are not strings are shown as JSON.
func (c *Console) table(m map[string]any) []kv {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		case nil:
			v = "null"
		default:
			b, err := json.Marshal(x)
			if err != nil {
				v = fmt.Sprint(x)
			} else {
				v = string(b)
			}
		}
		v, cutOff := cut(c.maskText(v), 2048)
		if cutOff {
			v += " …"
		}
		out = append(out, kv{k, v})
	}
	return out
}

// rawCall serves the body as received, as plain text (phones masked unless log.show_phone_numbers).
func (c *Console) rawCall(w http.ResponseWriter, r *http.Request, _ access) {
	sc, ok := c.storedCall(w, r)
	if !ok {
		return
	}
	body := c.maskText(strings.ToValidUTF8(string(sc.Raw), "\uFFFD"))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

// callTime shows a time the call carries (RFC 3339 from Intellixent) like the console's own times,
// and anything else as sent.
func callTime(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return fmtTime(t)
	}
	return s
}
