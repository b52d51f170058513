package twilio

import (
	"net/url"
	"testing"
)

// What the end-to-end tests of package twilio_test use from this package's tests.
const (
	TestSID   = testSID
	TestToken = testToken
)

// StartFakeTwilio starts the fake Twilio (fake_test.go) and returns its URL, for api_url, and a
// function giving the form fields of each request it got, with the path and basic auth checked.
func StartFakeTwilio(t *testing.T) (apiURL string, forms func() []url.Values) {
	f := newFakeTwilio(t)
	return f.srv.URL, func() []url.Values {
		var out []url.Values
		for _, r := range f.requests() {
			out = append(out, r.form)
		}
		return out
	}
}
