// Package payloadgen makes realistic Intellixent post-call webhooks (docs/intellixent-webhook.md) for load
// tests: the published shape, a status and lead-quality mix as seen in production, bodies of 0.5-20 KiB.
// cmd/sbload and the end-to-end tests share it.
package payloadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Body sizes, in bytes, that generated payloads stay within whatever their id.
const (
	// MinBodyBytes is the smallest body a Generator makes.
	MinBodyBytes = 512
	// MaxBodyBytes is the largest body a Generator makes.
	MaxBodyBytes = 20 * 1024
	// slack is kept free at both ends so a body stays in range after the last estimate (see converse).
	slack = 32
	// minCompletedBytes is the smallest target for a completed call, which always has a conversation.
	minCompletedBytes = 1024
)

// TimeLayout is Intellixent's ISO 8601 form: microseconds and a literal Z.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Payload is one Intellixent post-call webhook in the shape the vendor publishes
// (docs/intellixent-webhook.md). Field order is the wire order.
type Payload struct {
	ID                  int64          `json:"id"`
	CustomerPhone       *string        `json:"customer_phone"`
	AssistantPhone      string         `json:"assistant_phone"`
	Duration            int64          `json:"duration"`
	Status              string         `json:"status"`
	ExtractedVariables  map[string]any `json:"extracted_variables"`
	InputVariables      map[string]any `json:"input_variables"`
	Transcript          []Turn         `json:"transcript"`
	FormattedTranscript string         `json:"formatted_transcript"`
	RecordingURL        string         `json:"recording_url,omitempty"`
	CreatedAt           string         `json:"created_at"`
	FinishedAt          string         `json:"finished_at"`
	Lead                map[string]any `json:"lead,omitempty"`
}

// Turn is one utterance of a transcript.
type Turn struct {
	Text      string  `json:"text"`
	Sender    string  `json:"sender"`
	Timestamp float64 `json:"timestamp"`
}

// Generator makes realistic payloads. It is not safe for concurrent use: give each worker its own.
//
// The mix it draws: status completed 80%, busy 12%, failed 8%; for completed calls only (a busy or failed call
// has no conversation to extract from) lead_quality high 15%, medium 35%, low 50%. Completed calls have a
// transcript sized for a body log-uniformly spread between 1 and 20 KiB; busy and failed calls have an empty
// transcript and a body of about 0.5-1 KiB. About 3% of calls have a null customer_phone, 30% carry a lead
// (campaign calls), and a few have missing or null extracted variables, as the spec allows.
type Generator struct {
	rng *rand.Rand
	// now is the finish time of each generated call.
	now func() time.Time
}

// New returns a Generator whose draws depend only on seed; now gives each call's finish time.
func New(seed uint64, now func() time.Time) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, 0x5b1d)), now: now}
}

// Body returns the JSON body of a new call with the given id; its length is within
// [MinBodyBytes, MaxBodyBytes].
func (g *Generator) Body(id int64) ([]byte, error) {
	_, b, err := g.Draw(id)
	return b, err
}

// Draw returns a new call with the given id and its JSON body. The transcript is sized by estimate; the
// body is encoded once, and again only in the rare case it must be trimmed or padded into range.
func (g *Generator) Draw(id int64) (*Payload, []byte, error) {
	p := g.next(id)
	b, err := json.Marshal(p)
	for err == nil && len(b) > MaxBodyBytes-slack && len(p.Transcript) > 2 {
		p.Transcript = p.Transcript[:len(p.Transcript)-1]
		p.FormattedTranscript = p.FormattedTranscript[:strings.LastIndexByte(p.FormattedTranscript, '\n')]
		b, err = json.Marshal(p)
	}
	if err == nil && len(b) < MinBodyBytes+slack {
		g.pad(p, len(b))
		b, err = json.Marshal(p)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("encode payload: %w", err)
	}
	return p, b, nil
}

// next draws a new call with the given id, its transcript sized by estimate (see Draw).
func (g *Generator) next(id int64) *Payload {
	finished := g.now().UTC()
	p := &Payload{
		ID:             id,
		AssistantPhone: assistantPhones[g.rng.IntN(len(assistantPhones))],
		Status:         g.status(),
		InputVariables: map[string]any{
			"customer_name":    pick(g.rng, firstNames) + " " + pick(g.rng, lastNames),
			"product_interest": pick(g.rng, products),
			"account_id":       fmt.Sprintf("acct-%06d", g.rng.IntN(1000000)),
		},
		ExtractedVariables: map[string]any{},
		Transcript:         []Turn{},
	}
	if g.rng.IntN(100) >= 3 {
		phone := fmt.Sprintf("+1%03d%07d", 200+g.rng.IntN(800), g.rng.IntN(10000000))
		p.CustomerPhone = &phone
	}
	if g.rng.IntN(100) < 30 {
		p.Lead = map[string]any{
			"campaign_id": 100 + g.rng.IntN(900),
			"list":        pick(g.rng, campaigns),
			"attempt":     1 + g.rng.IntN(3),
		}
	}
	if p.Status == "completed" {
		g.converse(p, finished)
	} else {
		p.Duration = int64(g.rng.IntN(30))
	}
	p.CreatedAt = finished.Add(-time.Duration(p.Duration) * time.Second).Format(TimeLayout)
	p.FinishedAt = finished.Format(TimeLayout)
	return p
}

// status draws completed 80%, busy 12%, failed 8%.
func (g *Generator) status() string {
	switch r := g.rng.IntN(100); {
	case r < 80:
		return "completed"
	case r < 92:
		return "busy"
	default:
		return "failed"
	}
}

// quality draws high 15%, medium 35%, low 50%.
func (g *Generator) quality() string {
	switch r := g.rng.IntN(100); {
	case r < 15:
		return "high"
	case r < 50:
		return "medium"
	default:
		return "low"
	}
}

// converse fills the extracted variables, recording and a transcript sized for a log-uniform target body size.
func (g *Generator) converse(p *Payload, finished time.Time) {
	q := g.quality()
	p.ExtractedVariables = map[string]any{
		"status":       q != "low",
		"summary":      summaries[q][g.rng.IntN(len(summaries[q]))],
		"lead_quality": q,
		"next_action":  nextActions[q],
	}
	switch r := g.rng.IntN(100); {
	case r < 3:
		p.ExtractedVariables["summary"] = nil
	case r < 8:
		delete(p.ExtractedVariables, "next_action")
	}
	p.RecordingURL = fmt.Sprintf("https://portal.intellixent.ai/storage/recordings/call-%d.mp4", p.ID)

	lo, hi := math.Log(minCompletedBytes), math.Log(MaxBodyBytes-slack)
	target := int(math.Exp(lo + g.rng.Float64()*(hi-lo)))
	// Sizes are estimated with a duration of the same width as the final one (calls here last 10-9999 s).
	p.Duration = 1000
	size := encodedLen(p)

	start := float64(finished.Unix()) - 1 // placeholder: timestamps are rebased below
	ts := start
	var lines []string
	for i := 0; ; i++ {
		sender, prefix, pool := "bot", "AI: ", botLines
		if i%2 == 1 {
			sender, prefix, pool = "human", "Customer: ", humanLines
		}
		var sb strings.Builder
		for n := 1 + g.rng.IntN(3); n > 0; n-- {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(pick(g.rng, pool))
		}
		t := Turn{Text: sb.String(), Sender: sender, Timestamp: math.Round(ts*10) / 10}
		line := prefix + t.Text
		// The turn in the array, a comma, the line in formatted_transcript and its escaped newline.
		grow := turnLen(t) + 1 + stringLen(line) - 2 + 2
		if i >= 2 && size+grow > target {
			break
		}
		size += grow
		p.Transcript = append(p.Transcript, t)
		lines = append(lines, line)
		ts += 2 + g.rng.Float64()*6
	}
	p.FormattedTranscript = strings.Join(lines, "\n")
	p.Duration = max(10, int64(ts-start)+int64(g.rng.IntN(5)))
	// Rebase the timestamps so the conversation starts at created_at.
	shift := float64(finished.Unix()-p.Duration) - start
	for i := range p.Transcript {
		p.Transcript[i].Timestamp = math.Round((p.Transcript[i].Timestamp+shift)*10) / 10
	}
}

// pad adds a notes input variable, as CRMs pass free-text notes, to a call whose body is n bytes long, so
// that it reaches MinBodyBytes.
func (g *Generator) pad(p *Payload, n int) {
	var sb strings.Builder
	for sb.Len() < MinBodyBytes+slack-n {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(pick(g.rng, notes))
	}
	p.InputVariables["notes"] = sb.String()
}

// encodedLen is the length of v as JSON. v is always encodable here; were it not, the estimate is the largest
// body, so the caller adds nothing and Draw reports the encoding error.
func encodedLen(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return MaxBodyBytes
	}
	return len(b)
}

// turnLen is the length of t as JSON, without encoding it.
func turnLen(t Turn) int {
	return len(`{"text":,"sender":,"timestamp":}`) + stringLen(t.Text) + stringLen(t.Sender) +
		len(strconv.FormatFloat(t.Timestamp, 'f', -1, 64))
}

// stringLen is the length of s, valid UTF-8, as a JSON string with its quotes, as encoding/json writes it.
func stringLen(s string) int {
	n := 2
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
			n += 2
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += utf8.RuneLen(r)
		}
	}
	return n
}

func pick(rng *rand.Rand, s []string) string { return s[rng.IntN(len(s))] }

var (
	assistantPhones = []string{"+19875550100", "+19875550101", "+14155550199"}
	firstNames      = []string{"John", "Maria", "Wei", "Aisha", "Lukas", "Sofia", "Omar", "Emma", "Raj", "Chloé"}
	lastNames       = []string{"Doe", "García", "Chen", "Okafor", "Müller", "Rossi", "Haddad", "Smith", "Patel", "Martin"}
	products        = []string{"Pro Plan", "Starter Plan", "Enterprise", "Add-on: Analytics", "Annual renewal"}
	campaigns       = []string{"spring-promo", "renewals-q3", "webinar-followup", "trial-expiring"}
	nextActions     = map[string]string{"high": "schedule_demo", "medium": "send_info", "low": "no_follow_up"}
	summaries       = map[string][]string{
		"high": {"Customer interested in product demo", "Wants a quote for 50 seats this month",
			"Ready to upgrade, asked for a call with sales"},
		"medium": {"Asked for pricing by email", "Interested but evaluating competitors",
			"Call back next quarter"},
		"low": {"Not interested", "Wrong number", "Asked to be removed from the list"},
	}
	botLines = []string{
		"Hello, this is Sarah from Intellixent.",
		"I'm calling about your recent enquiry.",
		"Is now a good time to talk for a couple of minutes?",
		"Our Pro Plan includes unlimited seats and priority support.",
		"Would you like me to schedule a demo with one of our specialists?",
		"I can send the pricing details to your email address.",
		"Could you confirm the best number to reach you on?",
		"Thanks for your time, have a great day.",
		"Just to confirm, you'd prefer a call on Tuesday afternoon?",
		"We also offer a 30-day trial with no commitment.",
	}
	humanLines = []string{
		"Hi, thanks for calling.",
		"Yes, I have a few minutes.",
		"How much does it cost per user?",
		"We're currently using another tool & it's too slow.",
		"Can you send me something in writing?",
		"I'm not sure we need that right now.",
		"Tuesday works, after 2 pm.",
		"Sure, my email is on the form I filled in.",
		"Tell <!channel> I said hi <b>bold</b>.",
		"Okay, sounds good.",
		"What about integrations with our CRM?",
		"No, please don't call again.",
	}
	notes = []string{"prefers", "email", "contact", "after", "5pm;", "existing", "customer", "since", "2021;",
		"asked", "about", "discounts", "for", "non-profits;", "call", "back", "requested"}
)
