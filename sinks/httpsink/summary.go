package httpsink

import (
	"mime"
	"regexp"
	"strings"
	"unicode"
)

// detailLimit bounds how much of a response body is looked at for an error's detail.
const detailLimit = 4 << 10

// detailMaxLen bounds the detail shown in an error.
const detailMaxLen = 200

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// Summarize returns a short one-line description of a response body for an error message: the text
// itself when short, the page title for an HTML page (never the HTML), or "" for an empty body.
func Summarize(contentType string, body []byte) string {
	if len(body) > detailLimit {
		body = body[:detailLimit]
	}
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	lower := strings.ToLower(s)
	if mt == "text/html" || strings.HasPrefix(lower, "<!doctype html") || strings.HasPrefix(lower, "<html") {
		if m := htmlTitle.FindStringSubmatch(s); m != nil {
			if title := oneLine(m[1]); title != "" {
				return "an HTML page titled " + truncate(title)
			}
		}
		return "an HTML page"
	}
	return truncate(oneLine(s))
}

// oneLine collapses whitespace and drops control characters.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string) string {
	if r := []rune(s); len(r) > detailMaxLen {
		s = string(r[:detailMaxLen]) + "…"
	}
	return s
}
