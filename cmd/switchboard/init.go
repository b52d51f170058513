package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/switchboard-relay/switchboard/config"
	"github.com/switchboard-relay/switchboard/rules"
	"github.com/switchboard-relay/switchboard/ruletest"
	"github.com/switchboard-relay/switchboard/sinks/registry"
)

// initCmd writes a working, commented config for the user's own destinations and a switchboard.env of
// secrets beside it (mode 0600). It asks when stdin is a terminal and no destination flag is given;
// otherwise the flags decide, and a destination not given becomes a log sink.
func initCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("init", stderr)
	out := fs.String("out", "switchboard.yaml", "config file to write (switchboard.env is written beside it)")
	slack := fs.String("slack-webhook", "", "Slack incoming webhook URL for hot leads")
	crm := fs.String("crm-url", "", "CRM webhook URL for hot leads")
	alerts := fs.String("alerts-slack-webhook", "", "Slack incoming webhook URL for failed-call alerts")
	smtp := fs.String("smtp-url", "", "SMTP server for hot-lead email: smtp://user[:password]@host:587 (STARTTLS) or smtps://…:465")
	emailTo := fs.String("email-to", "", "address that receives hot-lead email (with --smtp-url)")
	hot := fs.String("hot", "high", "comma-separated extracted_variables.lead_quality values that count as hot")
	storagePath := fs.String("storage-path", config.DefaultStoragePath, "SQLite database file (absolute under systemd, e.g. /var/lib/switchboard/switchboard.db)")
	force := fs.Bool("force", false, "overwrite existing files")
	if pos, err := parseInterleaved(fs, args); err != nil || len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	a := initAnswers{SlackWebhook: *slack, CRMURL: *crm, AlertsSlackWebhook: *alerts, EmailTo: *emailTo,
		HotValues: splitList(*hot), StoragePath: *storagePath}
	smtpRaw := *smtp
	if isTerminal(stdin) && *slack == "" && *crm == "" && *alerts == "" && *smtp == "" {
		var err error
		if smtpRaw, err = ask(&a, bufio.NewReader(stdin), stdout); err != nil {
			return err
		}
	}
	if smtpRaw != "" {
		s, err := parseSMTPURL(smtpRaw)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard init: --smtp-url: %v\n", err)
			return errUsage
		}
		a.SMTP = s
		if a.EmailTo == "" {
			fmt.Fprintln(stderr, "switchboard init: --smtp-url needs --email-to ADDR")
			return errUsage
		}
	}
	if len(a.HotValues) == 0 {
		fmt.Fprintln(stderr, "switchboard init: --hot needs at least one value")
		return errUsage
	}
	for name, u := range map[string]string{"--slack-webhook": a.SlackWebhook, "--crm-url": a.CRMURL, "--alerts-slack-webhook": a.AlertsSlackWebhook} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			fmt.Fprintf(stderr, "switchboard init: %s must be an http(s) URL\n", name)
			return errUsage
		}
	}

	envPath := filepath.Join(filepath.Dir(*out), envFileName)
	env := initEnv(a)
	cfgText := renderInitConfig(a, time.Now())
	if err := validateInit(*out, cfgText, env); err != nil {
		return fmt.Errorf("the generated config does not pass check (please report this):\n%w", err)
	}
	if !*force {
		for _, p := range []string{*out, envPath} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s exists: not overwritten (use --force to replace it)", p)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := writeNew(envPath, renderEnv(env), 0o600, *force); err != nil {
		return err
	}
	if err := writeNew(*out, []byte(cfgText), 0o644, *force); err != nil {
		return err
	}
	printNextSteps(stdout, *out, envPath, env)
	return nil
}

// initEnv is the content of switchboard.env, in the order written: fresh random tokens and the
// secrets among the answers.
func initEnv(a initAnswers) [][2]string {
	env := [][2]string{{"SWITCHBOARD_TOKEN", randomToken()}, {"SWITCHBOARD_ADMIN_TOKEN", randomToken()}}
	add := func(k, v string) {
		if v != "" {
			env = append(env, [2]string{k, v})
		}
	}
	add("SLACK_SALES_WEBHOOK", a.SlackWebhook)
	add("CRM_WEBHOOK_URL", a.CRMURL)
	add("SLACK_ALERTS_WEBHOOK", a.AlertsSlackWebhook)
	if a.SMTP != nil && a.SMTP.Username != "" {
		env = append(env, [2]string{"SMTP_PASSWORD", a.SMTP.Password})
	}
	return env
}

func renderEnv(env [][2]string) []byte {
	var b strings.Builder
	b.WriteString("# Secrets for switchboard.yaml, loaded by every switchboard command (variables already set in the\n# environment win). Keep this file private (mode 0600).\n")
	for _, kv := range env {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	return []byte(b.String())
}

// validateInit runs the generated config through what check runs (parse, compile, run its tests, build
// the sinks),
// with the environment file's values (and the process environment, which wins).
func validateInit(path, text string, env [][2]string) error {
	vars := map[string]string{}
	for _, kv := range env {
		vars[kv[0]] = kv[1]
	}
	lookup := func(name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true
		}
		v, ok := vars[name]
		return v, ok
	}
	cfg, err := config.Parse(path, []byte(text), lookup)
	if err != nil {
		return err
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		return err
	}
	// Its own tests, as relay.Load runs them for check and serve.
	if problems := ruletest.Problems(ruletest.Run(cfg, rs)); len(problems) > 0 {
		return problems
	}
	for _, sc := range cfg.Sinks {
		if _, err := registry.New(sc, registry.Options{}); err != nil {
			return fmt.Errorf("sinks.%s: %w", sc.Name, err)
		}
	}
	return nil
}

// writeNew writes data to path with mode; without force it fails when path exists (O_EXCL, so a file
// created meanwhile is not overwritten either).
func writeNew(path string, data []byte, mode os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: not overwritten (use --force to replace it)", path)
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil { // an existing file replaced with --force keeps no looser mode
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printNextSteps tells where the files are, the URL to paste into Intellixent (with the token) and the
// command to run next.
func printNextSteps(w io.Writer, out, envPath string, env [][2]string) {
	token := env[0][1]
	fmt.Fprintf(w, "wrote %s\nwrote %s (secrets, mode 0600)\n\n", out, envPath)
	fmt.Fprintf(w, "In Intellixent (assistant → Post-Call Actions → webhook URL), paste:\n  https://<your host>%s?token=%s\n\n",
		config.DefaultWebhookPath, token)
	fmt.Fprintf(w, "Next:\n  switchboard test --config %s      # runs its tests: what each rule sends\n  switchboard serve --config %s\n", out, out)
}

// parseSMTPURL reads smtp://user[:password]@host[:port] (STARTTLS, port 587 by default) or smtps://
// (implicit TLS, 465). A password not in the URL is taken from $SMTP_PASSWORD when set.
func parseSMTPURL(raw string) (*smtpURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL; write smtp://user@host:587")
	}
	s := &smtpURL{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.TLS, s.Port = "starttls", 587
	case "smtps":
		s.TLS, s.Port = "implicit", 465
	default:
		return nil, errors.New("scheme must be smtp:// (STARTTLS) or smtps:// (implicit TLS)")
	}
	if s.Host == "" {
		return nil, errors.New("no host; write smtp://user@host:587")
	}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil || s.Port < 1 || s.Port > 65535 {
			return nil, fmt.Errorf("port %q is not a port number", p)
		}
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Password == "" {
			s.Password = os.Getenv("SMTP_PASSWORD")
		}
	}
	return s, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// isTerminal reports whether r is an interactive terminal (not a pipe, a file or /dev/null).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
