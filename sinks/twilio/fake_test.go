package twilio

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// Credentials the fake Twilio accepts.
const (
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	testService = "MG0123456789abcdef0123456789abcdef"
	testFrom    = "+15017122661"
)

// twilioError is one of Twilio's error answers: the HTTP status it comes with, its code and message
// as the Messages API sends them (the messages quote numbers as Twilio does).
type twilioError struct {
	status  int
	code    int
	message string
}

// Twilio's answers to a Messages request, by error code.
var (
	errAuth       = twilioError{401, 20003, "Authenticate"}
	errNotFound   = twilioError{404, 20404, "The requested resource /2010-04-01/Accounts/" + testSID + "/Messages.json was not found"}
	errTooMany    = twilioError{429, 20429, "Too Many Requests"}
	errInternal   = twilioError{500, 20500, "An internal server error has occurred"}
	errInvalidTo  = twilioError{400, 21211, "The 'To' number 5558675310 is not a valid phone number."}
	errNoBody     = twilioError{400, 21602, "Message body is required."}
	errNoFrom     = twilioError{400, 21603, "The 'From' number is required to send a Message."}
	errNoTo       = twilioError{400, 21604, "A 'To' phone number is required."}
	errGeo        = twilioError{400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15558675310."}
	errFromNotSMS = twilioError{400, 21606, "The 'From' phone number provided (+15017122661) is not a valid message-capable Twilio phone number for this destination."}
	errUnverified = twilioError{400, 21608, "The number +15558675310 is unverified. Trial accounts cannot send messages to unverified numbers; verify +15558675310 at twilio.com/user/account/phone-numbers/verified, or purchase a Twilio number to send messages to unverified numbers."}
	errStopped    = twilioError{400, 21610, "Attempt to send to unsubscribed recipient"}
	errQueueFull  = twilioError{400, 21611, "This 'From' number has exceeded the maximum number of queued messages"}
	errNotMobile  = twilioError{400, 21614, "'To' number +15558675310 is not a valid mobile number"}
	errTooLong    = twilioError{400, 21617, "The concatenated message body exceeds the 1600 character limit."}
	errNotTwilio  = twilioError{400, 21659, "'From' +15017122661 is not a Twilio phone number or Short Code country mismatch"}
)

// answer is what the fake answers to one request instead of checking and accepting it.
type answer struct {
	err        twilioError
	retryAfter string
}

// received is one request as the fake Twilio saw it.
type received struct {
	path, user, password string
	form                 url.Values
}

// fakeTwilio answers like Twilio's Messages API: it checks the path, the basic auth and the form
// fields (answering 20404, 20003, 21211, 21602, 21603, 21604 and 21617 as Twilio does) and accepts a
// good request with 201 and the Message JSON. When answers are queued, it answers each request with
// the next of them instead (the last one repeats).
type fakeTwilio struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers []answer
	got     []received
}

func newFakeTwilio(t *testing.T, answers ...answer) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// requests returns the requests seen so far.
func (f *fakeTwilio) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	user, password, _ := r.BasicAuth()
	_ = r.ParseForm()
	f.mu.Lock()
	f.got = append(f.got, received{path: r.URL.Path, user: user, password: password, form: r.PostForm})
	var next *answer
	if len(f.answers) > 0 {
		next = &f.answers[0]
		if len(f.answers) > 1 {
			f.answers = f.answers[1:]
		}
	}
	f.mu.Unlock()

	if next != nil {
		if next.retryAfter != "" {
			w.Header().Set("Retry-After", next.retryAfter)
		}
		writeError(w, next.err)
		return
	}
	if e, bad := check(r, user, password); bad {
		writeError(w, e)
		return
	}
	form := r.PostForm
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"account_sid": testSID, "api_version": "2010-04-01", "body": form.Get("Body"),
		"date_created": "Mon, 30 Nov 2026 22:57:24 +0000", "direction": "outbound-api",
		"error_code": nil, "error_message": nil, "from": form.Get("From"),
		"messaging_service_sid": nilIfEmpty(form.Get("MessagingServiceSid")), "num_segments": "1",
		"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": form.Get("To"),
		"uri": "/2010-04-01/Accounts/" + testSID + "/Messages/SM0123456789abcdef0123456789abcdef.json",
	})
}

// check returns the error Twilio answers to a bad request, if any.
func check(r *http.Request, user, password string) (twilioError, bool) {
	form := r.PostForm
	switch {
	case user != testSID || password != testToken:
		return errAuth, true
	case r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json":
		return errNotFound, true
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return errNoTo, true // Twilio reads no form fields from another body
	case form.Get("To") == "":
		return errNoTo, true
	case !isE164(form.Get("To")):
		return errInvalidTo, true
	case (form.Get("From") == "") == (form.Get("MessagingServiceSid") == ""):
		return errNoFrom, true
	case form.Get("Body") == "":
		return errNoBody, true
	case utf8.RuneCountInString(form.Get("Body")) > MaxText:
		return errTooLong, true
	}
	return twilioError{}, false
}

// isE164 is the fake's own check of a To number: + and 1 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func writeError(w http.ResponseWriter, e twilioError) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = fmt.Fprintf(w, `{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`,
		e.code, e.message, e.code, e.status)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
