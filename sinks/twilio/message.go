package twilio

import (
	"errors"
	"fmt"

	"github.com/switchboard-relay/switchboard/phone"
	"github.com/switchboard-relay/switchboard/sinks"
)

// Message is what a twilio action renders to (see Spec's ActionKeys).
type Message struct {
	To   string `json:"to,omitempty"`
	Text string `json:"text,omitempty"`
}

// decodeMessage reads d's rendered message.
func decodeMessage(d *sinks.Delivery) (Message, error) {
	var m Message
	if d == nil {
		return m, sinks.Permanent(sinks.ReasonTemplate, errors.New("the delivery has no message: re-render it"))
	}
	err := d.Message.Decode(&m)
	return m, err
}

// form returns the To and Body fields Twilio gets for m: To in E.164 with separators removed, Body
// cut to MaxText characters. A To that is not a phone number or an empty text is a permanent
// template failure, whose error shows the number masked as the logs do.
func (m Message) form() (to, body string, err error) {
	to, err = normalizeNumber(m.To)
	if err != nil {
		return "", "", sinks.Permanent(sinks.ReasonTemplate, fmt.Errorf("the action's to rendered %q, which is not a phone number in E.164 (+ and country code, up to 15 digits): %w",
			shownNumber(m.To), err))
	}
	if m.Text == "" {
		return "", "", sinks.Permanent(sinks.ReasonTemplate, errors.New("the action's text rendered empty: Twilio sends no empty SMS"))
	}
	return to, cutText(m.Text), nil
}

// shownMax bounds how much of a bad To value an error quotes.
const shownMax = 24

// shownNumber is a To value as an error may quote it: its digits masked as the logs mask phone
// numbers (all but the last four), cut to shownMax characters.
func shownNumber(s string) string {
	s = phone.Mask(s)
	if r := []rune(s); len(r) > shownMax {
		s = string(r[:shownMax]) + Ellipsis
	}
	return s
}
