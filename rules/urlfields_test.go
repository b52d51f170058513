package rules

import (
	"encoding/json"
	"testing"
)

// signedURL is a presigned recording URL: its & and %2F must reach Slack byte for byte, or the
// signature no longer matches.
const signedURL = "https://rec.example.com/a.mp3?X-Amz-Credential=AK%2F2026&X-Amz-Date=20261130T000000Z&X-Amz-Signature=abc123"

const urlPayload = `{"id": 7, "status": "completed", "recording_url": "` + signedURL + `",
 "input_variables": {"odd": "https://x.example/a b\"<c>|{d}\n"}}`

// TestSlackURLFieldsAreNotEntityEscaped: in Slack blocks, the value of a URL key (a button's url,
// image_url, an accessory's image_url, a legacy attachment's title_link) is escaped as a URL, not as
// mrkdwn text; text around it is still escaped.
func TestSlackURLFieldsAreNotEntityEscaped(t *testing.T) {
	blocks := yamlNode(t, `
- type: section
  text: { type: mrkdwn, text: "<{{ recording_url }}|Listen>" }
  accessory: { type: image, image_url: "{{ recording_url }}", alt_text: "a & b" }
- type: actions
  elements:
    - { type: button, text: { type: plain_text, text: Listen }, url: "{{ recording_url }}" }
    - { type: button, text: { type: plain_text, text: Odd }, url: "{{ input_variables.odd }}" }
- { type: image, image_url: "{{ recording_url }}", alt_text: "{{ recording_url }}" }
- { title_link: "{{ recording_url }}" }
- '{{ {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": recording_url}, "url": recording_url}]} }}'
`)
	a := evalAction(t, "slack", act{Text: tmpl("<{{ recording_url }}|Listen>"), Blocks: blocks}, urlPayload)
	if a.Err != nil {
		t.Fatalf("render: %v", a.Err)
	}
	var got []map[string]any
	if err := json.Unmarshal(decoded(a.Message).Blocks, &got); err != nil {
		t.Fatalf("blocks are not JSON: %v\n%s", err, decoded(a.Message).Blocks)
	}
	entity := "https://rec.example.com/a.mp3?X-Amz-Credential=AK%2F2026&amp;X-Amz-Date=20261130T000000Z&amp;X-Amz-Signature=abc123"
	elements := got[1]["elements"].([]any)
	tests := []struct {
		name, got, want string
	}{
		{"button url", elements[0].(map[string]any)["url"].(string), signedURL},
		{"accessory image_url", got[0]["accessory"].(map[string]any)["image_url"].(string), signedURL},
		{"image block image_url", got[2]["image_url"].(string), signedURL},
		{"attachment title_link", got[3]["title_link"].(string), signedURL},
		{"a URL cannot carry spaces, quotes or brackets", elements[1].(map[string]any)["url"].(string),
			"https://x.example/a%20b%22%3Cc%3E%7C%7Bd%7D%0A"},
		{"mrkdwn text in blocks is still escaped", got[0]["text"].(map[string]any)["text"].(string), "<" + entity + "|Listen>"},
		{"alt_text is still escaped", got[2]["alt_text"].(string), entity},
		{"text is still escaped", decoded(a.Message).Text, "<" + entity + "|Listen>"},
		{"button url in a block an expression builds", get(got[4], "elements", 0, "url"), signedURL},
		{"button text in a block an expression builds is still escaped", get(got[4], "elements", 0, "text", "text"), entity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %q\nwant %q", tt.got, tt.want)
			}
		})
	}
}

// TestWebhookURLKeysAreAsGiven: a webhook body has no markup, so its url keys are sent as received,
// like every other value.
func TestWebhookURLKeysAreAsGiven(t *testing.T) {
	a := evalAction(t, "webhook", act{Body: yamlNode(t, `{url: "{{ input_variables.odd }}"}`)}, urlPayload)
	if a.Err != nil {
		t.Fatalf("render: %v", a.Err)
	}
	var got map[string]string
	if err := json.Unmarshal(decoded(a.Message).Body, &got); err != nil {
		t.Fatal(err)
	}
	if want := "https://x.example/a b\"<c>|{d}\n"; got["url"] != want {
		t.Errorf("url = %q, want %q", got["url"], want)
	}
}

// get walks decoded JSON by map keys (string) and list indexes (int) to a string; "" when absent.
func get(v any, path ...any) string {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return ""
			}
			v = l[k]
		}
	}
	s, _ := v.(string)
	return s
}
