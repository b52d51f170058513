package twilio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/sinks"
	"github.com/switchboard-relay/switchboard/sinks/httpsink"
	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

// fast shortens the in-request backoff so retry rows do not wait.
var fast = httpsink.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}

// testTo is the recipient of the test deliveries.
const testTo = "+15558675310"

// config returns the config values of a sink pointed at apiURL, sending from testFrom.
func config(apiURL string) values {
	return values{"account_sid": testSID, "auth_token": testToken, "from": testFrom, "api_url": apiURL}
}

// newTestSink builds a sink from v with a fast backoff and a captured log.
func newTestSink(t *testing.T, v values) (*Sink, *sinktest.Buffer) {
	t.Helper()
	logger, logs := sinktest.NewLogger()
	s, err := newSink("reps", decodeOK(t, v), logger, fast)
	if err != nil {
		t.Fatalf("newSink() = %v", err)
	}
	return s, logs
}

// delivery returns a delivery whose message is what a twilio action with the given to and text
// renders to.
func delivery(t *testing.T, to, text string) *sinks.Delivery {
	t.Helper()
	m, err := json.Marshal(Message{To: to, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return &sinks.Delivery{ID: 7, CallID: 12345, Rule: "hot-leads", Action: 1, Attempt: 1, Message: m}
}

// TestStatusTable runs the shared table of HTTP statuses (with bodies that are not Twilio's error
// JSON, as a proxy would answer) against the sink. The table sends sinktest.Delivery(), whose message
// holds the keys of other types (to is email's list there); twilioMessage gives the sink a message
// a twilio action renders in its place.
func TestStatusTable(t *testing.T) {
	sinktest.RunStatusTable(t, func(t *testing.T, url string) sinks.Sink {
		s, _ := newTestSink(t, config(url))
		return twilioMessage{s, delivery(t, testTo, "Hot lead").Message}
	}, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)
}

// twilioMessage is a Sink that sends each delivery with msg as its message.
type twilioMessage struct {
	*Sink
	msg sinks.Message
}

func (s twilioMessage) Send(ctx context.Context, d *sinks.Delivery) error {
	own := *d
	own.Message = s.msg
	return s.Sink.Send(ctx, &own)
}

// TestSend checks the request Twilio gets: the account's Messages path, basic auth, and the form
// fields To (normalised), From or MessagingServiceSid, and Body; and that the Message sid is logged.
func TestSend(t *testing.T) {
	tests := []struct {
		name     string
		v        func(apiURL string) values
		wantFrom string
		wantSvc  string
	}{
		{"from a number", config, testFrom, ""},
		{"from a number written with separators", func(u string) values {
			v := config(u)
			v["from"] = "+1 (501) 712-2661"
			return v
		}, testFrom, ""},
		{"from an alphanumeric sender ID", func(u string) values {
			v := config(u)
			v["from"] = "Acme Sales"
			return v
		}, "Acme Sales", ""},
		{"through a Messaging Service", func(u string) values {
			v := config(u)
			delete(v, "from")
			v["messaging_service_sid"] = testService
			return v
		}, "", testService},
		{"api_url with a trailing slash", func(u string) values { return config(u + "/") }, testFrom, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			s, logs := newTestSink(t, tt.v(f.srv.URL))
			if err := s.Send(context.Background(), delivery(t, "+1 (555) 867-5310", "Hot lead: Ann wants a demo")); err != nil {
				t.Fatalf("Send() = %v", err)
			}
			got := f.requests()
			if len(got) != 1 {
				t.Fatalf("Twilio saw %d requests, want 1", len(got))
			}
			r := got[0]
			if r.path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" || r.user != testSID || r.password != testToken {
				t.Errorf("request path %q, auth %q:%q", r.path, r.user, r.password)
			}
			want := map[string]string{"To": testTo, "Body": "Hot lead: Ann wants a demo", "From": tt.wantFrom, "MessagingServiceSid": tt.wantSvc}
			for k, v := range want {
				if r.form.Get(k) != v {
					t.Errorf("form %s = %q, want %q", k, r.form.Get(k), v)
				}
			}
			if len(r.form) != 3 {
				t.Errorf("form has %d fields, want 3: %v", len(r.form), r.form)
			}
			if !strings.Contains(logs.String(), "message_sid=SM0123456789abcdef0123456789abcdef") {
				t.Errorf("log lacks the Message sid:\n%s", logs)
			}
			sinktest.AssertNoSecrets(t, []string{testToken}, logs.String())
		})
	}
}

// TestAnswers runs each of Twilio's answers through the sink: the classification it gets, the code
// it quotes, and no phone number or token in the error or the log.
func TestAnswers(t *testing.T) {
	retry := sinktest.InRequestAttempts
	tests := []struct {
		name          string
		answer        answer
		wantRetryable bool
		wantReason    sinks.Reason
		wantAttempts  int
		wantAfter     time.Duration
		wantText      string
	}{
		{"20003 bad credentials", answer{err: errAuth}, false, sinks.ReasonAuth, 1, 0, "check account_sid and auth_token"},
		{"20404 no such account", answer{err: errNotFound}, false, sinks.ReasonClientError, 1, 0, "check account_sid and api_url"},
		{"20429 too many requests", answer{err: errTooMany}, true, sinks.ReasonRateLimited, retry, 0, "20429"},
		{"20429 with a long Retry-After handed to the queue", answer{err: errTooMany, retryAfter: "120"}, true, sinks.ReasonRateLimited, 1, 2 * time.Minute, "20429"},
		{"20429 answered with 400", answer{err: twilioError{400, 20429, "Too Many Requests"}}, true, sinks.ReasonRateLimited, retry, 0, "20429"},
		{"429 without a Twilio code", answer{err: twilioError{429, 0, "slow down"}}, true, sinks.ReasonRateLimited, retry, 0, "slow down"},
		{"20500 internal error", answer{err: errInternal}, true, sinks.ReasonServerError, retry, 0, "20500"},
		{"503 unavailable", answer{err: twilioError{503, 20503, "Service Unavailable"}}, true, sinks.ReasonServerError, retry, 0, "20503"},
		{"21211 invalid To", answer{err: errInvalidTo}, false, sinks.ReasonClientError, 1, 0, "21211"},
		{"21408 region not enabled", answer{err: errGeo}, false, sinks.ReasonClientError, 1, 0, "Geo Permissions"},
		{"21606 From cannot send SMS", answer{err: errFromNotSMS}, false, sinks.ReasonClientError, 1, 0, "21606"},
		{"21608 trial account, unverified To", answer{err: errUnverified}, false, sinks.ReasonClientError, 1, 0, "21608"},
		{"21610 recipient replied STOP", answer{err: errStopped}, false, sinks.ReasonClientError, 1, 0, "replied STOP"},
		{"21611 sender's queue full", answer{err: errQueueFull}, true, sinks.ReasonRateLimited, retry, 0, "21611"},
		{"21614 To not mobile", answer{err: errNotMobile}, false, sinks.ReasonClientError, 1, 0, "not a mobile number"},
		{"21617 body too long", answer{err: errTooLong}, false, sinks.ReasonClientError, 1, 0, "shorten the action's text"},
		{"21659 From not a Twilio number", answer{err: errNotTwilio}, false, sinks.ReasonClientError, 1, 0, "21659"},
		{"another 4xx code", answer{err: twilioError{400, 21620, "Invalid media URL(s)"}}, false, sinks.ReasonClientError, 1, 0, "21620: Invalid media URL(s)"},
		{"403 forbidden", answer{err: twilioError{403, 20008, "Resource not accessible with Test Account Credentials"}}, false, sinks.ReasonAuth, 1, 0, "20008"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t, tt.answer)
			s, logs := newTestSink(t, config(f.srv.URL))
			err := s.Send(context.Background(), delivery(t, testTo, "Hot lead"))
			if got := len(f.requests()); got != tt.wantAttempts {
				t.Errorf("Twilio saw %d requests, want %d", got, tt.wantAttempts)
			}
			se := sinktest.SendError(t, err, true)
			if se.Retryable != tt.wantRetryable || se.Reason != tt.wantReason || se.StatusCode != tt.answer.err.status {
				t.Errorf("Send() = retryable %v reason %q status %d, want %v %q %d (%v)", se.Retryable, se.Reason,
					se.StatusCode, tt.wantRetryable, tt.wantReason, tt.answer.err.status, err)
			}
			if se.RetryAfter != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", se.RetryAfter, tt.wantAfter)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Send() = %q, want it to say %q", err, tt.wantText)
			}
			sinktest.AssertNoSecrets(t, []string{testToken, testTo, testFrom, "8675310"}, err.Error(), logs.String())
		})
	}
}

// TestAnswerQuotesMaskedNumbers checks the text of a refusal: Twilio's code, its message with the
// numbers masked, what to do, and the more_info link.
func TestAnswerQuotesMaskedNumbers(t *testing.T) {
	f := newFakeTwilio(t, answer{err: errNotMobile})
	s, _ := newTestSink(t, config(f.srv.URL))
	err := s.Send(context.Background(), delivery(t, testTo, "Hot lead"))
	want := "receiver answered 400 Bad Request: twilio error 21614: 'To' number +*******5310 is not a valid mobile number: " +
		"the To number cannot receive SMS (not a mobile number) (https://www.twilio.com/docs/errors/21614)"
	if sinktest.ErrorText(err) != want {
		t.Errorf("Send() = %q\nwant        %q", err, want)
	}
}

// TestAnswerNotTwilio checks answers that are not Twilio's error JSON (a proxy in front of the API):
// classified by status, the token redacted if a body echoes it.
func TestAnswerNotTwilio(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream refused Basic "+testToken+" for +15558675310", http.StatusBadGateway)
	}))
	defer srv.Close()
	s, logs := newTestSink(t, config(srv.URL))
	err := s.Send(context.Background(), delivery(t, testTo, "Hot lead"))
	se := sinks.Classify(err)
	if se == nil || !se.Retryable || se.Reason != sinks.ReasonServerError {
		t.Fatalf("Send() = %v, want a retryable server_error", err)
	}
	if !strings.Contains(err.Error(), "upstream refused Basic <secret> for +*******5310") {
		t.Errorf("Send() = %q, want the body with the token redacted and the number masked", err)
	}
	sinktest.AssertNoSecrets(t, []string{testToken, testTo}, err.Error(), logs.String())
}

// TestNoAnswer checks that a request that gets no answer is retried.
func TestNoAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s, logs := newTestSink(t, config(url))
	err := s.Send(context.Background(), delivery(t, testTo, "Hot lead"))
	se := sinks.Classify(err)
	if se == nil || !se.Retryable || se.Reason != sinks.ReasonConnection {
		t.Fatalf("Send() = %v, want a retryable connection failure", err)
	}
	sinktest.AssertNoSecrets(t, []string{testToken}, err.Error(), logs.String())
}

// TestTo checks the To numbers the sink accepts, how it writes them, and that a bad one is a
// permanent template failure, sent to nobody, whose error shows the number masked.
func TestTo(t *testing.T) {
	tests := []struct {
		to, want, wantErr string
	}{
		{to: "+15558675310", want: "+15558675310"},
		{to: " +1 (555) 867-5310\n", want: "+15558675310"},
		{to: "+44 20.7946.0958", want: "+442079460958"},
		{to: "+1", want: "+1"},
		{to: "+123456789012345", want: "+123456789012345"},
		{to: "", wantErr: "it is empty"},
		{to: "5558675310", wantErr: "it does not start with + and a country code"},
		{to: "+0 555 867 5310", wantErr: "its country code starts with 0"},
		{to: "+1234567890123456", wantErr: "it has more than 15 digits"},
		{to: "+1 555 867 5310 ext 2", wantErr: "it holds characters other than digits"},
		{to: "+", wantErr: "it has no digits after the +"},
		{to: "+1555/8675310", wantErr: "it holds characters other than digits"},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			f := newFakeTwilio(t)
			s, _ := newTestSink(t, config(f.srv.URL))
			err := s.Send(context.Background(), delivery(t, tt.to, "Hot lead"))
			got := f.requests()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Send() = %v", err)
				}
				if len(got) != 1 || got[0].form.Get("To") != tt.want {
					t.Fatalf("Twilio got %+v, want To %q", got, tt.want)
				}
				return
			}
			if len(got) != 0 {
				t.Errorf("Twilio saw %d requests, want none", len(got))
			}
			se := sinks.Classify(err)
			if se == nil || se.Retryable || se.Reason != sinks.ReasonTemplate || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Send() = %v, want a permanent template failure saying %q", err, tt.wantErr)
			}
			sinktest.AssertNoSecrets(t, []string{"8675310", "7946095", "67890123456"}, err.Error())
		})
	}
}

// TestText checks that the Body Twilio gets is the text cut to 1,600 characters (not bytes), ending
// in "…" when cut; the fake refuses a longer Body with 21617 as Twilio does.
func TestText(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"short", "Hot lead: Zoë", "Hot lead: Zoë"},
		{"exactly 1,600 multi-byte characters", strings.Repeat("é", MaxText), strings.Repeat("é", MaxText)},
		{"1,601 multi-byte characters", strings.Repeat("é", MaxText+1), strings.Repeat("é", MaxText-1) + "…"},
		{"four-byte characters", strings.Repeat("😀", 2000), strings.Repeat("😀", MaxText-1) + "…"},
		{"ASCII over the limit", strings.Repeat("a", 5000), strings.Repeat("a", MaxText-1) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			s, _ := newTestSink(t, config(f.srv.URL))
			if err := s.Send(context.Background(), delivery(t, testTo, tt.text)); err != nil {
				t.Fatalf("Send() = %v", err)
			}
			if got := f.requests()[0].form.Get("Body"); got != tt.want {
				t.Errorf("Body has %d characters ending %q, want %d ending %q", len([]rune(got)), tail(got), len([]rune(tt.want)), tail(tt.want))
			}
		})
	}
	// An empty text is refused before Twilio would answer 21602.
	f := newFakeTwilio(t)
	s, _ := newTestSink(t, config(f.srv.URL))
	err := s.Send(context.Background(), delivery(t, testTo, ""))
	if se := sinks.Classify(err); se == nil || se.Retryable || se.Reason != sinks.ReasonTemplate || len(f.requests()) != 0 {
		t.Errorf("Send(empty text) = %v after %d requests, want a permanent template failure and none", err, len(f.requests()))
	}
}

func tail(s string) string {
	r := []rune(s)
	return string(r[max(len(r)-3, 0):])
}

func TestEscapeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ann <ann@example.com> & *Bob*", "Ann <ann@example.com> & *Bob*"},
		{"line one\nline two", "line one\nline two"},
		{"windows\r\nline", "windows\nline"},
		{"tab\there", "tab here"},
		{"line\u2028separator\u2029paragraph", "line\nseparator\nparagraph"},
		{"bell\a nul\x00 esc\x1b[31m del\x7f c1\u0085", "bell nul esc[31m del c1"},
		{"emoji 😀 and Zoë", "emoji 😀 and Zoë"},
	}
	for _, tt := range tests {
		if got := string(escapeText(nil, tt.in)); got != tt.want {
			t.Errorf("escapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := string(escapeText([]byte("kept: "), "x")); got != "kept: x" {
		t.Errorf("escapeText appended to %q, want %q", got, "kept: x")
	}
}

// TestAnswerMasksNumbers checks the answer `switchboard send-test` prints: Twilio's 201 quotes the
// message's body (and To), whose phone numbers are masked there as in the logs.
func TestAnswerMasksNumbers(t *testing.T) {
	const caller = "+15551234567"
	f := newFakeTwilio(t)
	s, _ := newTestSink(t, config(f.srv.URL))
	var answer httpsink.Answer
	if err := s.Send(httpsink.WithAnswer(context.Background(), &answer), delivery(t, testTo, "Call "+caller+" back")); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	if answer.Status != 201 || !strings.Contains(answer.Summary, "4567 back") {
		t.Fatalf("answer = %d %q, want 201 and a summary quoting the body", answer.Status, answer.Summary)
	}
	for _, number := range []string{caller, testTo} {
		if strings.Contains(answer.Summary, number) || strings.Contains(answer.Summary, number[1:]) {
			t.Errorf("answer summary %q shows the whole number %s", answer.Summary, number)
		}
	}
}
