package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ask fills a from questions on a terminal; an empty answer keeps the default (a log sink). It returns
// the SMTP URL given, if any.
func ask(a *initAnswers, in *bufio.Reader, out io.Writer) (smtpRaw string, err error) {
	fmt.Fprintln(out, "Switchboard setup. Press Enter to skip a destination: it becomes a log sink (messages are written to the log).")
	questions := []struct {
		prompt string
		dst    *string
	}{
		{"Slack incoming webhook URL for hot leads", &a.SlackWebhook},
		{"CRM webhook URL for hot leads", &a.CRMURL},
		{"SMTP server for hot-lead email (smtp://user:password@host:587)", &smtpRaw},
	}
	for _, q := range questions {
		if *q.dst, err = prompt(in, out, q.prompt, ""); err != nil {
			return "", err
		}
	}
	if smtpRaw != "" {
		if a.EmailTo, err = prompt(in, out, "Email address that receives hot leads", ""); err != nil {
			return "", err
		}
	}
	hot, err := prompt(in, out, "lead_quality values that count as hot (comma-separated)", strings.Join(a.HotValues, ","))
	if err != nil {
		return "", err
	}
	a.HotValues = splitList(hot)
	if a.AlertsSlackWebhook, err = prompt(in, out, "Slack incoming webhook URL for failed-call alerts", ""); err != nil {
		return "", err
	}
	return smtpRaw, nil
}

func prompt(in *bufio.Reader, out io.Writer, question, def string) (string, error) {
	if def != "" {
		fmt.Fprintf(out, "%s [%s]: ", question, def)
	} else {
		fmt.Fprintf(out, "%s: ", question)
	}
	line, err := in.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		if err == io.EOF {
			return def, nil
		}
		return "", err
	}
	if line = strings.TrimSpace(line); line == "" {
		return def, nil
	}
	return line, nil
}
