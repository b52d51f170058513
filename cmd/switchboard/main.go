// Command switchboard is a self-hosted relay for Intellixent's post-call webhooks: it stores every call
// durably and delivers what its YAML rules choose to Slack, Microsoft Teams, CRM webhooks, email and SMS.
//
// Subcommands: init, serve, check, test, send-test, replay, sinks, pause, resume, healthcheck,
// version. Run `switchboard help` for usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/switchboard-relay/switchboard/store"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = ""
	commit  = ""
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks a command line mistake; the usage was already printed.
var errUsage = errors.New("usage")

// exitError carries a specific exit status with an error already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

const usage = `switchboard relays Intellixent post-call webhooks to Slack, Microsoft Teams, CRM webhooks, email and SMS.

Usage:
  switchboard init    [--out FILE] [--slack-webhook URL] [--crm-url URL] [--alerts-slack-webhook URL]
                      [--smtp-url smtp://user@host:587 --email-to ADDR] [--hot high,...] [--storage-path P] [--force]
  switchboard serve   [--config FILE] [--log-format text|json] [--log-level LEVEL]
  switchboard check   [--config FILE]
  switchboard test    [--config FILE] [--json] PAYLOAD.json... (or - for stdin)
  switchboard test    [--config FILE] [--json]       (runs the config's tests:)
  switchboard send-test [--config FILE] --sink NAME [--payload FILE]
  switchboard replay  [--config FILE] (--dead | --call ID | --delivery ID)
  switchboard sinks   [--config FILE] [--json]
  switchboard pause   [--config FILE] SINK
  switchboard resume  [--config FILE] SINK
  switchboard healthcheck [--config FILE] [--url URL]
  switchboard version

FILE defaults to $SWITCHBOARD_CONFIG, or switchboard.yaml. Relative paths inside it are relative
to its folder. Every command taking --config also loads switchboard.env from the
config's folder when it exists (variables already set win), or --env-file ENV.

Exit status: 0 success, 1 failure (invalid config or payload, storage, unknown id or sink), 2 usage error.
`

// run executes one command line and returns the exit status, the same for every command: 0 success,
// 1 failure (reported on stderr), 2 usage error (errUsage, with the usage printed).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(args[1:], stderr)
	case "check":
		err = checkCmd(args[1:], stdout, stderr)
	case "test":
		err = testCmd(args[1:], stdin, stdout, stderr)
	case "replay":
		err = replayCmd(args[1:], stdout, stderr)
	case "init":
		err = initCmd(args[1:], stdin, stdout, stderr)
	case "healthcheck":
		err = healthcheckCmd(args[1:], stdout, stderr)
	case "send-test":
		err = sendTestCmd(args[1:], stdout, stderr)
	case "sinks":
		err = sinksCmd(args[1:], stdout, stderr)
	case "pause":
		err = sinkStateCmd("pause", store.SinkPaused, args[1:], stdout, stderr)
	case "resume":
		err = sinkStateCmd("resume", store.SinkActive, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "switchboard version: takes no arguments\n\n%s", usage)
			return 2
		}
		fmt.Fprintln(stdout, versionString())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(stderr, "switchboard %s: %v\n", args[0], err)
		return 1
	}
}

// defaultConfig is $SWITCHBOARD_CONFIG, or switchboard.yaml.
func defaultConfig() string {
	if p := os.Getenv("SWITCHBOARD_CONFIG"); p != "" {
		return p
	}
	return "switchboard.yaml"
}

// parseInterleaved parses flags that may come before or after positional arguments
// (`switchboard test a.json --json`), and returns the positional ones. "-" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("switchboard "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func versionString() string {
	v, c := versionInfo()
	return strings.Join([]string{"switchboard", v, "(commit " + c + ",", runtime.Version() + ")"}, " ")
}

// versionInfo returns the version and commit, from -ldflags or the module's build information.
func versionInfo() (v, c string) {
	v, c = version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}
