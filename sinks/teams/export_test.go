package teams

import "testing"

// ServeWorkflows starts a fake Workflows webhook (see fakeTeams), for the tests of package
// teams_test, and returns its URL and a channel that receives the body of every request as it
// arrives.
func ServeWorkflows(t *testing.T) (string, <-chan []byte) {
	f, url := serve(t, workflows)
	return url, f.arrived
}

// Secrets are the parts of the fake's URLs that must never show.
var Secrets = secrets
