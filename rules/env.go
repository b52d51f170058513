package rules

import (
	"reflect"
	"strconv"

	"github.com/switchboard-relay/switchboard/call"
)

// consoleURLName is the one name of the environment that is not the call's: the call's page in the
// web console, {server.public_url}/ui/calls/{id}, or nil when server.public_url is not set.
const consoleURLName = "console_url"

// consoleCallPath is where the web console shows a call, under server.public_url.
const consoleCallPath = "/ui/calls/"

// envTypes is the environment expressions compile against: every name in call.Call's expr tags with
// a zero value of its field's type, so that expr checks names and types as it would against the
// struct. At run time the names are looked up in a map (fillEnv) instead of through reflection on the
// struct, which saves an allocation and a reflective call per name used.
var envTypes = func() map[string]any {
	t := reflect.TypeFor[call.Call]()
	env := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		if tag := f.Tag.Get("expr"); tag != "" && tag != "-" {
			env[tag] = reflect.Zero(f.Type).Interface()
		}
	}
	env[consoleURLName] = (*string)(nil) // a string or nil, like customer_phone
	return env
}()

// consoleBase is the prefix of console_url for a config: public_url + "/ui/calls/", or "" when
// public_url is not set (public_url never ends with a slash).
func consoleBase(publicURL string) string {
	if publicURL == "" {
		return ""
	}
	return publicURL + consoleCallPath
}

// fillEnv sets env to c's values, one entry per name of envTypes; base is the Ruleset's consoleBase.
// TestEnvMatchesCall keeps the two in step with call.Call.
func fillEnv(env map[string]any, c *call.Call, base string) {
	if base == "" {
		env[consoleURLName] = (*string)(nil)
	} else {
		u := base + strconv.FormatInt(c.ID, 10)
		env[consoleURLName] = &u
	}
	env["id"] = c.ID
	env["customer_phone"] = c.CustomerPhone
	env["assistant_phone"] = c.AssistantPhone
	env["duration"] = c.Duration
	env["status"] = c.Status
	env["extracted_variables"] = c.ExtractedVariables
	env["input_variables"] = c.InputVariables
	env["lead"] = c.Lead
	env["transcript"] = c.Transcript
	env["formatted_transcript"] = c.FormattedTranscript
	env["recording_url"] = c.RecordingURL
	env["created_at"] = c.CreatedAt
	env["finished_at"] = c.FinishedAt
	env["transfers"] = c.Transfers
}
