package slack

import (
	"fmt"
	"strings"
	"testing"
)

func TestValidateMessage(t *testing.T) {
	section := func(text string) string {
		return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
	}
	button := func(text, url string) string {
		return fmt.Sprintf(`{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":%q},"url":%q}]}`, text, url)
	}
	msg := func(blocks ...string) string {
		return `{"text":"fallback","blocks":[` + strings.Join(blocks, ",") + `]}`
	}
	field := `{"type":"mrkdwn","text":"f"}`
	fields := func(n int, text string) string {
		fs := make([]string, n)
		for i := range fs {
			fs[i] = field
		}
		fs[0] = fmt.Sprintf(`{"type":"mrkdwn","text":%q}`, text)
		return `{"type":"section","fields":[` + strings.Join(fs, ",") + `]}`
	}
	context := func(n int) string {
		es := make([]string, n)
		for i := range es {
			es[i] = field
		}
		return `{"type":"context","elements":[` + strings.Join(es, ",") + `]}`
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = `{"type":"divider"}`
	}
	tests := []struct {
		name string
		body string
		want []string // each a substring of one problem, in order; none = valid
	}{
		{"a full message", msg(`{"type":"header","text":{"type":"plain_text","text":"Hot lead"}}`, fields(10, "x"),
			section(strings.Repeat("é", 3000)), button(strings.Repeat("b", 75), "https://x.example/"+strings.Repeat("a", 2980)),
			context(10), `{"type":"divider"}`), nil},
		{"text only", `{"text":"hi"}`, nil},
		{"no fallback text", `{"blocks":[` + section("x") + `]}`, []string{"text: missing"}},
		{"blank fallback text", `{"text":"  ","blocks":[]}`, []string{"text: missing"}},
		{"51 blocks", msg(many...), []string{"blocks: 51 blocks, the limit is 50"}},
		{"section text over 3000", msg(section(strings.Repeat("&", 3001))), []string{"blocks[0].text.text: 3001 characters, the limit is 3000"}},
		{"empty section text", msg(section("")), []string{"blocks[0].text.text: empty"}},
		{"header over 150", msg(`{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}`),
			[]string{"blocks[0].text.text: 151 characters, the limit is 150"}},
		{"header in mrkdwn", msg(`{"type":"header","text":{"type":"mrkdwn","text":"h"}}`), []string{`blocks[0].text.type: "mrkdwn", want plain_text`}},
		{"button text over 75", msg(button(strings.Repeat("b", 76), "https://x")), []string{"blocks[0].elements[0].text.text: 76 characters, the limit is 75"}},
		{"button url over 3000", msg(button("b", "https://"+strings.Repeat("u", 2993))), []string{"blocks[0].elements[0].url: 3001 characters, the limit is 3000"}},
		{"button url not http", msg(button("b", "javascript:alert(1)")), []string{"blocks[0].elements[0].url: not an http(s) URL"}},
		{"11 fields", msg(fields(11, "x")), []string{"blocks[0].fields: 11 elements, the limit is 10"}},
		{"field over 2000", msg(fields(2, strings.Repeat("f", 2001))), []string{"blocks[0].fields[0].text: 2001 characters, the limit is 2000"}},
		{"11 context elements", msg(context(11)), []string{"blocks[0].elements: 11 elements, the limit is 10"}},
		{"section without text or fields", msg(`{"type":"section"}`), []string{"a section needs text or fields"}},
		{"unknown block", msg(`{"type":"carousel"}`), []string{`"carousel" is not a block type`}},
		{"not JSON", `{"text":`, []string{"not a Slack message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ValidateMessage([]byte(tt.body))
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
