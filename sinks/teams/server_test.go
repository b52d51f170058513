package teams

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// testSig stands for the signature of a Workflows URL: a secret that must appear in no error, log
// line or preview, even when Teams echoes it.
const testSig = "SIGsecret0123456789abcdefXYZ"

// workflowPath is the path and query of a Workflows webhook URL, with testSig as its signature.
const workflowPath = "/workflows/0a1b2c3d4e5f60718293a4b5c6d7e8f9/triggers/manual/paths/invoke" +
	"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + testSig

// legacyPath is the path of a legacy connector URL.
const legacyPath = "/webhookb2/11111111-2222-3333-4444-555555555555@66666666-7777-8888-9999-000000000000" +
	"/IncomingWebhook/abcdef0123456789abcdef0123456789/77777777-8888-9999-aaaa-bbbbbbbbbbbb/V2legacySecretPart"

// Modes of the fake: how it answers a request it accepts.
const (
	workflows = "workflows" // 202 with an empty body
	legacy    = "legacy"    // 200 with the body "1"
)

// answer is a scripted answer of the fake, for the errors a real Teams gives only in situations a
// test cannot create (a flow turned off, throttling, an outage).
type answer struct {
	status      int
	contentType string
	retryAfter  string
	body        string
}

// received is one request as the fake saw it.
type received struct {
	contentType, idempotencyKey string
	body                        []byte
}

// fakeTeams answers like a Teams incoming webhook. In workflows mode it checks the body the way the
// Workflows template's trigger does (a JSON body whose attachments each carry contentType and
// contentUrl, else 400 TriggerInputSchemaMismatch) and accepts with 202 and no body, even a card over
// the size limit (the flow fails later, out of sight). In legacy mode it accepts with 200 "1" and
// reports Teams' own refusal of a card over 28 KB inside a 200, as connectors do. Scripted answers,
// when given, are used in turn instead (the last one repeats).
type fakeTeams struct {
	mode    string
	mu      sync.Mutex
	answers []answer
	got     []received
	// arrived receives the body of every request as it arrives (the first 100), so a test can wait
	// for one.
	arrived chan []byte
}

func (f *fakeTeams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	rec := received{contentType: r.Header.Get("Content-Type"), idempotencyKey: r.Header.Get("Idempotency-Key"), body: body}
	f.got = append(f.got, rec)
	select {
	case f.arrived <- body:
	default:
	}
	var a answer
	if len(f.answers) > 0 {
		a = f.answers[min(len(f.got), len(f.answers))-1]
	}
	f.mu.Unlock()
	if a.status == 0 {
		a = f.natural(r, body)
	}
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// natural is the fake's own answer to a request: what Teams answers when nothing is wrong on its side.
func (f *fakeTeams) natural(r *http.Request, body []byte) answer {
	if r.Method != http.MethodPost {
		return answer{status: http.StatusMethodNotAllowed, contentType: "application/json",
			body: `{"error":{"code":"TriggerRequestMethodNotValid","message":"The HTTP method for this request is not valid."}}`}
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var msg struct {
		Type        string            `json:"type"`
		Attachments []json.RawMessage `json:"attachments"`
	}
	if mt != "application/json" || json.Unmarshal(body, &msg) != nil {
		return schemaMismatch("The input body for trigger 'manual' of type 'Request' must be of type JSON.")
	}
	if f.mode == legacy {
		if len(body) > MaxBody {
			return answer{status: 200, contentType: "text/plain; charset=utf-8",
				body: "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0,server=msgapi-production-weu-azsc2-4-24,cv=CbwV8yA0EUq1g7Zq1lLlkg.0.."}
		}
		return answer{status: 200, contentType: "text/plain; charset=utf-8", body: "1"}
	}
	for _, raw := range msg.Attachments {
		var att map[string]json.RawMessage
		if json.Unmarshal(raw, &att) != nil {
			return schemaMismatch("Invalid type. Expected Object.")
		}
		for _, key := range []string{"contentType", "contentUrl", "content"} {
			if _, ok := att[key]; !ok {
				return schemaMismatch("Required properties are missing from object: " + key + ".")
			}
		}
	}
	return answer{status: http.StatusAccepted}
}

func schemaMismatch(why string) answer {
	return answer{status: 400, contentType: "application/json; charset=utf-8",
		body: `{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition. Error details: '` + why + `'."}}`}
}

func (f *fakeTeams) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// serve starts a fake Teams in mode, answering with answers when given, and returns it with the
// webhook URL of that mode.
func serve(t *testing.T, mode string, answers ...answer) (*fakeTeams, string) {
	t.Helper()
	f := &fakeTeams{mode: mode, answers: answers, arrived: make(chan []byte, 100)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if mode == legacy {
		return f, srv.URL + legacyPath
	}
	return f, srv.URL + workflowPath
}
