package rules

import (
	"reflect"

	"github.com/switchboard-relay/switchboard/call"
)

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
	return env
}()

// fillEnv sets env to c's values, one entry per name of envTypes. TestEnvMatchesCall keeps the two
// in step with call.Call.
func fillEnv(env map[string]any, c *call.Call) {
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
