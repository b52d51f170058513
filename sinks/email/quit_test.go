package email

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/switchboard-relay/switchboard/sinks/sinktest"
)

// TestQuitFailureAfterAcceptedMessage uses a relay that accepts the message (250 after DATA) and then
// drops the connection instead of answering QUIT, as some relays and idle-cutting load balancers do:
// the message was delivered, so Send must succeed rather than fail and send it again on retry.
func TestQuitFailureAfterAcceptedMessage(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		say := func(s string) { _, _ = conn.Write([]byte(s + "\r\n")) }
		say("220 relay.test ESMTP")
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch cmd := strings.ToUpper(line); {
			case inData:
				if line == "." {
					inData = false
					say("250 queued")
					accepted <- struct{}{}
				}
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 relay.test")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"), strings.HasPrefix(cmd, "NOOP"):
				say("250 ok")
			case cmd == "DATA":
				inData = true
				say("354 go ahead")
			case cmd == "QUIT":
				return // hang up without the 221 reply
			default:
				say("502 not implemented")
			}
		}
	}()
	s, logs := newTestSink(t, SMTP{Port: l.Addr().(*net.TCPAddr).Port, TLS: "none"})
	err = s.Send(t.Context(), sinktest.Delivery())
	select {
	case <-accepted:
	default:
		t.Fatalf("the relay never accepted the message (Send = %v)", err)
	}
	if err != nil {
		t.Errorf("Send = %v, want nil: the relay accepted the message before the connection dropped\nlogs: %s", err, logs)
	}
}
