package call

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt with Decode's current answers")

// goldenBodies are hand-made edge cases whose answers testdata/golden.txt records, beside the fuzz
// corpus and the sample calls. They pin what a sender sees (an error message or the decoded call) for
// bodies where JSON decoders commonly differ.
var goldenBodies = []struct{ name, body string }{
	{"NUL escaped in a string", `{"id":1,"status":"a\u0000b"}`},
	{"NUL raw in a string", "{\"id\":1,\"status\":\"a\x00b\"}"},
	{"NUL after the object", "{\"id\":1}\x00"},
	{"NUL in a key", `{"id":1,"a\u0000":1}`},
	{"invalid UTF-8 in a known string", "{\"id\":1,\"status\":\"ok\xff\xfe\"}"},
	{"invalid UTF-8 in a nested string", "{\"id\":1,\"lead\":{\"n\":\"\xc3\x28\"}}"},
	{"invalid UTF-8 in a nested key", "{\"id\":1,\"lead\":{\"\xff\":1}}"},
	{"invalid UTF-8 in an unknown key", "{\"id\":1,\"\xffx\":1}"},
	{"invalid UTF-8 in a turn", "{\"id\":1,\"transcript\":[{\"text\":\"a\xe2\x82\",\"sender\":\"bot\"}]}"},
	{"invalid UTF-8 after an escape", "{\"id\":1,\"status\":\"\\n\xff\"}"},
	{"truncated UTF-8 at the end of a string", "{\"id\":1,\"status\":\"\xf0\x9f\x98\"}"},
	{"overlong UTF-8", "{\"id\":1,\"status\":\"\xc0\xaf\"}"},
	{"UTF-8 surrogate bytes", "{\"id\":1,\"status\":\"\xed\xa0\x80\"}"},
	{"lone high surrogate escape", `{"id":1,"status":"\ud800"}`},
	{"lone low surrogate escape", `{"id":1,"status":"\udc00x"}`},
	{"high surrogate then letter escape", `{"id":1,"status":"\ud800\u0041"}`},
	{"surrogate pair", `{"id":1,"status":"\ud83d\ude00"}`},
	{"bad escape", `{"id":1,"status":"\x"}`},
	{"short unicode escape", `{"id":1,"status":"\u12"}`},
	{"escaped key id", `{"\u0069d":3}`},
	{"escaped key ID", `{"\u0049D":3}`},
	{"BOM before the object", "\xef\xbb\xbf{\"id\":1}"},
	{"whitespace around", " \r\n\t{\"id\":1} \n"},
	{"id twice", `{"id":1,"id":2}`},
	{"id twice same value", `{"id":1,"id":1}`},
	{"status twice", `{"id":1,"status":"a","status":"b"}`},
	{"lead twice", `{"id":1,"lead":{},"lead":{}}`},
	{"unknown key twice", `{"id":1,"x":1,"x":2}`},
	{"duplicate then syntax error", `{"id":1,"id":2,}`},
	{"case variant then duplicate", `{"ID":1,"id":1,"id":2}`},
	{"duplicate then case variant", `{"id":1,"id":2,"ID":3}`},
	{"nested duplicate in lead", `{"id":1,"lead":{"a":1,"a":2}}`},
	{"nested duplicate objects merge or replace", `{"id":1,"lead":{"a":{"x":1},"a":{"y":2}}}`},
	{"nested duplicate arrays", `{"id":1,"extracted_variables":{"a":[1,2],"a":[3]}}`},
	{"nested duplicate in input_variables", `{"id":1,"input_variables":{"n":"a","n":null}}`},
	{"nested duplicate in a transfer", `{"id":1,"transfers":[{"to":"+1","to":"+2"}]}`},
	{"nested duplicate in an unknown field", `{"id":1,"campaign":{"a":1,"a":2}}`},
	{"turn text twice", `{"id":1,"transcript":[{"text":"a","text":"b"}]}`},
	{"turn text then null", `{"id":1,"transcript":[{"text":"a","text":null}]}`},
	{"turn text in two cases", `{"id":1,"transcript":[{"text":"a","TEXT":"b"}]}`},
	{"turn TEXT", `{"id":1,"transcript":[{"TEXT":"a","Sender":"bot","TimeStamp":2}]}`},
	{"turn text with a long s", `{"id":1,"transcript":[{"ſender":"bot"}]}`},
	{"turn key with underscore", `{"id":1,"transcript":[{"te_xt":"a","time-stamp":3}]}`},
	{"turn with an unknown key", `{"id":1,"transcript":[{"text":"a","confidence":0.9,"words":[{"w":"a"}]}]}`},
	{"turn null", `{"id":1,"transcript":[null,{"text":"a"}]}`},
	{"turn a string", `{"id":1,"transcript":["a"]}`},
	{"turn a number", `{"id":1,"transcript":[1]}`},
	{"turn timestamp string", `{"id":1,"transcript":[{"timestamp":"1.5"}]}`},
	{"turn timestamp huge", `{"id":1,"transcript":[{"timestamp":1e999}]}`},
	{"turn timestamp tiny", `{"id":1,"transcript":[{"timestamp":1e-999}]}`},
	{"turn sender number", `{"id":1,"transcript":[{"sender":1}]}`},
	{"empty transcript", `{"id":1,"transcript":[]}`},
	{"ID", `{"ID":5}`},
	{"Id", `{"Id":5}`},
	{"iD with id", `{"id":5,"iD":6}`},
	{"STATUS", `{"id":1,"STATUS":"x"}`},
	{"Customer_Phone", `{"id":1,"Customer_Phone":"+1"}`},
	{"Lead", `{"id":1,"Lead":{}}`},
	{"status with a long s", `{"id":1,"ſtatus":"x"}`},
	{"customer phone without underscore", `{"id":1,"customerphone":"+1"}`},
	{"customer-phone with a dash", `{"id":1,"customer-phone":"+1"}`},
	{"case variant after a type error", `{"id":1,"status":5,"Status":"x"}`},
	{"nested case variant", `{"id":1,"lead":{"ID":1,"id":2,"Status":3}}`},
	{"transcript as a string", `{"id":1,"transcript":"AI: hi\nCustomer: hello"}`},
	{"transcript as a string with formatted", `{"id":1,"transcript":"raw","formatted_transcript":"nice"}`},
	{"transcript as an empty string", `{"id":1,"transcript":""}`},
	{"transcript as a list of one turn without sender", `{"id":1,"transcript":[{"text":"x"}]}`},
	{"transcript as a number", `{"id":1,"transcript":5}`},
	{"transcript as a bool", `{"id":1,"transcript":true}`},
	{"transcript as an object", `{"id":1,"transcript":{"text":"a"}}`},
	{"id as a string", `{"id":"5"}`},
	{"duration as a string", `{"id":1,"duration":"60"}`},
	{"duration as a bool", `{"id":1,"duration":true}`},
	{"duration fractional", `{"id":1,"duration":59.99}`},
	{"duration negative zero", `{"id":1,"duration":-0}`},
	{"duration negative", `{"id":1,"duration":-0.5}`},
	{"duration 2^53", `{"id":1,"duration":9007199254740992}`},
	{"duration above 2^53", `{"id":1,"duration":9007199254740994}`},
	{"duration huge", `{"id":1,"duration":1e400}`},
	{"duration huge negative", `{"id":1,"duration":-1e400}`},
	{"duration tiny", `{"id":1,"duration":1e-400}`},
	{"id max int64", `{"id":9223372036854775807}`},
	{"id max int64 plus one", `{"id":9223372036854775808}`},
	{"id 1.0", `{"id":1.0}`},
	{"id 1e0", `{"id":1e0}`},
	{"id negative zero", `{"id":-0}`},
	{"id true", `{"id":true}`},
	{"id object", `{"id":{}}`},
	{"id leading zero", `{"id":01}`},
	{"id plus sign", `{"id":+1}`},
	{"huge number in lead", `{"id":1,"lead":{"x":1e400}}`},
	{"huge negative number in lead", `{"id":1,"lead":{"x":-1e400}}`},
	{"huge integer in lead", `{"id":1,"lead":{"x":123456789012345678901234567890}}`},
	{"tiny number in lead", `{"id":1,"lead":{"x":1e-400}}`},
	{"huge number in transfers", `{"id":1,"transfers":[1e400]}`},
	{"huge number in an unknown field", `{"id":1,"campaign":1e400}`},
	{"huge number deep in extracted_variables", `{"id":1,"extracted_variables":{"a":[{"b":[1e999]}]}}`},
	{"nulls everywhere", `{"id":7,"customer_phone":null,"assistant_phone":null,"duration":null,"status":null,"extracted_variables":null,"input_variables":null,"lead":null,"transcript":null,"transfers":null,"formatted_transcript":null,"recording_url":null,"created_at":null,"finished_at":null}`},
	{"null values in maps", `{"id":1,"lead":{"a":null},"transfers":[null]}`},
	{"empty phone", `{"id":1,"customer_phone":""}`},
	{"two wrong fields: order of report", `{"id":1,"transfers":{},"status":5,"lead":[]}`},
	{"wrong field and missing id", `{"status":5}`},
	{"wrong field and bad id", `{"id":0,"status":5}`},
	{"wrong field then syntax error", `{"id":1,"status":5,}`},
	{"case variant and missing id", `{"Status":"x"}`},
	{"trailing comma", `{"id":1,}`},
	{"single quotes", `{'id':1}`},
	{"comment", `{"id":1 /* x */}`},
	{"two objects", `{"id":1}{"id":2}`},
	{"unclosed string", `{"id":1,"status":"abc`},
	{"missing colon", `{"id" 1}`},
	{"missing value", `{"id":}`},
	{"NaN", `{"id":1,"lead":{"x":NaN}}`},
	{"deep nesting in lead", `{"id":1,"lead":{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}`},
	{"too deep nesting", `{"id":1,"lead":{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`},
	{"escaped slash and controls", `{"id":1,"status":"a\/b\b\f\n\r\t\"\\"}`},
	{"unescaped DEL and U+2028", "{\"id\":1,\"status\":\"\x7f\u2028\"}"},
	{"empty object", `{}`},
	{"empty array", `[]`},
	{"number body", `5`},
	{"invalid UTF-8 string body", "\"\xff\""},
	{"invalid body", `{"id":1`},
	{"leading garbage", `x{"id":1}`},
}

// goldenInputs returns every body the golden test decodes, by name: the hand-made cases, FuzzDecode's
// seeds, the fuzz corpus in testdata/fuzz/FuzzDecode and the sample calls.
func goldenInputs(t *testing.T) []struct{ name, body string } {
	t.Helper()
	in := slices.Clone(goldenBodies)
	for i, s := range fuzzSeeds {
		in = append(in, struct{ name, body string }{fmt.Sprintf("fuzz seed %d", i), s})
	}
	files, err := filepath.Glob("testdata/fuzz/FuzzDecode/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fuzz corpus in testdata/fuzz/FuzzDecode")
	}
	for _, f := range files {
		in = append(in, struct{ name, body string }{"corpus " + filepath.Base(f), readCorpusFile(t, f)})
	}
	for _, f := range []string{"testdata/example.json", "testdata/typical.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, struct{ name, body string }{f, string(b)})
	}
	return in
}

// readCorpusFile reads one "go test fuzz v1" file holding a single []byte value.
func readCorpusFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(strings.TrimSpace(string(b)), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a go test fuzz v1 file", path)
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	if !ok || !ok2 {
		t.Fatalf("%s: want one []byte value", path)
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// answer is what Decode says about body, as text: the error, or every field of the call with strings
// quoted byte for byte (so an invalid byte is not hidden) and maps in key order.
func answer(body string) string {
	c, err := Decode([]byte(body))
	if err != nil {
		if c != nil {
			return "error with a call: " + err.Error()
		}
		return "error: " + err.Error()
	}
	var b strings.Builder
	if !bytes.Equal(c.Raw, []byte(body)) {
		b.WriteString("Raw is not the body\n")
	}
	fmt.Fprintf(&b, "id=%d duration=%d status=%q customer_phone=%s assistant_phone=%s\n",
		c.ID, c.Duration, c.Status, dumpPtr(c.CustomerPhone), dumpPtr(c.AssistantPhone))
	fmt.Fprintf(&b, "recording_url=%q created_at=%q finished_at=%q\n", c.RecordingURL, c.CreatedAt, c.FinishedAt)
	fmt.Fprintf(&b, "formatted_transcript=%q\n", c.FormattedTranscript)
	fmt.Fprintf(&b, "extracted_variables=%s\n", dump(c.ExtractedVariables))
	fmt.Fprintf(&b, "input_variables=%s\n", dump(c.InputVariables))
	fmt.Fprintf(&b, "lead=%s\n", dump(c.Lead))
	fmt.Fprintf(&b, "transfers=%s\n", dump(c.Transfers))
	if c.Transcript == nil {
		b.WriteString("transcript=nil\n")
	} else {
		fmt.Fprintf(&b, "transcript=%d turns\n", len(c.Transcript))
	}
	for _, tr := range c.Transcript {
		fmt.Fprintf(&b, "  turn text=%q sender=%q timestamp=%s\n", tr.Text, tr.Sender, strconv.FormatFloat(tr.Timestamp, 'g', -1, 64))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func dumpPtr(p *string) string {
	if p == nil {
		return "nil"
	}
	return strconv.Quote(*p)
}

// dump writes a decoded JSON value with its Go types: nil and empty containers differ, strings are
// quoted byte for byte, numbers are float64 written exactly.
func dump(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		if v == nil {
			return "map(nil)"
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ":" + dump(v[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if v == nil {
			return "list(nil)"
		}
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = dump(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// TestDecodeGolden checks Decode's answer for every body in goldenInputs against testdata/golden.txt,
// written from the decoder of record; `go test ./call -run Golden -update` rewrites it.
func TestDecodeGolden(t *testing.T) {
	inputs := goldenInputs(t)
	var out strings.Builder
	for _, in := range inputs {
		fmt.Fprintf(&out, "=== %s\n%s\n", in.name, answer(in.body))
	}
	const path = "testdata/golden.txt"
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	wantCases := parseGolden(string(want))
	if len(wantCases) != len(inputs) {
		t.Errorf("golden file has %d cases, the inputs are %d: run with -update after adding inputs", len(wantCases), len(inputs))
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			w, ok := wantCases[in.name]
			if !ok {
				t.Fatalf("no golden answer for %q", in.name)
			}
			if got := answer(in.body); got != w {
				t.Errorf("Decode(%q):\ngot  %s\nwant %s", in.body, got, w)
			}
		})
	}
}

// parseGolden splits the golden file into answers by case name.
func parseGolden(s string) map[string]string {
	out := map[string]string{}
	for _, block := range strings.Split(s, "=== ")[1:] {
		name, ans, _ := strings.Cut(block, "\n")
		out[name] = strings.TrimSuffix(ans, "\n")
	}
	return out
}
