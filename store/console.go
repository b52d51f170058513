package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Console is the web console's read side: filtered searches over indexed columns (the customer's
// phone digits, status, duration, and the matched rules as rows) and the rollups of the overview.
// Both stores implement it; their Ingest fills the indexed columns, and a migration backfills them
// for calls stored before it.
type Console interface {
	// SearchCalls returns the calls matching q, newest received first (ties by descending id), at
	// most q.Limit (default 50) of them, each with its deliveries counted by state.
	SearchCalls(ctx context.Context, q CallQuery) ([]*CallSummary, error)
	// SearchDeliveries returns the deliveries matching q by descending id, at most q.Limit (default
	// 100).
	SearchDeliveries(ctx context.Context, q DeliveryQuery) ([]*Delivery, error)
	// CountDeliveries counts the deliveries matching q (its paging fields are ignored).
	CountDeliveries(ctx context.Context, q DeliveryQuery) (int, error)
	// Overview summarises the calls received and the deliveries created in [since, since+24h).
	Overview(ctx context.Context, since time.Time) (*Overview, error)
}

// Matched filters calls by whether any rule matched.
type Matched string

// The values of CallQuery.Matched.
const (
	MatchedAny Matched = ""    // every call
	MatchedYes Matched = "yes" // at least one rule matched
	MatchedNo  Matched = "no"  // no rule matched
)

// CallQuery narrows SearchCalls; zero fields match everything.
type CallQuery struct {
	// Q is a call id or the last digits of the customer's phone number (3 or more digits; other
	// characters are ignored). A number matches a call with that id or a phone ending in it.
	Q       string
	Status  string
	Rule    string // a rule that matched
	Matched Matched
	From    time.Time // received at or after
	To      time.Time // received before
	// Before pages: only calls received before (BeforeTime, BeforeID), in (received_at, id) order.
	BeforeTime time.Time
	BeforeID   int64
	Limit      int
}

// CallSummary is a call as listed: everything but its body.
type CallSummary struct {
	ID            int64
	ReceivedAt    time.Time
	Status        string
	Matched       []string
	CustomerPhone string // as received, unmasked; empty when unknown
	Duration      int64  // seconds
	// Deliveries counts the call's deliveries by state.
	Deliveries map[State]int
}

// DeliveryQuery narrows SearchDeliveries and CountDeliveries; zero fields match everything.
type DeliveryQuery struct {
	CallID int64
	State  State
	Sink   string
	Rule   string
	Reason string    // the last attempt's reason
	From   time.Time // call received at or after
	To     time.Time // call received before
	// BeforeID pages: only deliveries with a smaller id.
	BeforeID int64
	Limit    int
}

// Overview is the last day at a glance.
type Overview struct {
	Since time.Time
	// CallsPerHour[i] counts the calls received in hour i after Since (24 entries).
	CallsPerHour []int
	Calls        int
	// Unmatched counts the calls no rule matched.
	Unmatched int
	// RuleMatches counts, per rule, the calls it matched.
	RuleMatches map[string]int
	// SinkStates counts, per sink and state, the deliveries of the calls received in the window.
	SinkStates map[string]map[State]int
	// Dead counts every dead delivery, whenever it was created; NewestDead are the five newest.
	Dead       int
	NewestDead []*Delivery
}

// ConsoleFields are the indexed columns derived from a call's body.
type ConsoleFields struct {
	CustomerPhone string // valid UTF-8 without NUL
	PhoneDigits   string // the phone's digits, reversed, for suffix search
	Duration      int64
}

// FieldsOf derives the indexed columns of a call: from CustomerPhone and Duration when set,
// otherwise from its raw body (for calls stored before the columns existed, or by callers that do
// not set them). A body that is not JSON gives empty fields.
func FieldsOf(c *Call) ConsoleFields {
	phone, dur := c.CustomerPhone, c.Duration
	if phone == "" && dur == 0 && len(c.Raw) > 0 {
		phone, dur = fieldsFromRaw(c.Raw)
	}
	return ConsoleFields{CustomerPhone: cleanText(phone), PhoneDigits: ReverseDigits(phone), Duration: dur}
}

func fieldsFromRaw(raw []byte) (string, int64) {
	var v struct {
		CustomerPhone any `json:"customer_phone"`
		Duration      any `json:"duration"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return "", 0
	}
	phone, _ := v.CustomerPhone.(string)
	var dur int64
	if f, ok := v.Duration.(float64); ok && f >= 0 && f < 1<<53 {
		dur = int64(f)
	}
	return phone, dur
}

// ReverseDigits returns the digits of s in reverse order: a phone's last digits become a prefix, which
// an index can search.
func ReverseDigits(s string) string {
	var b []byte
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// DigitsUpperBound returns the smallest string greater than every string starting with the digit
// string p: the exclusive end of a prefix range.
func DigitsUpperBound(p string) string {
	return p[:len(p)-1] + string(p[len(p)-1]+1)
}

// cleanText makes s storable in any text column: valid UTF-8 and no NUL.
func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// QueryDigits returns the digits of a search term when it names a phone suffix or a call id, and
// "" otherwise.
func QueryDigits(q string) string {
	var b []byte
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		default:
			return ""
		}
	}
	return string(b)
}
