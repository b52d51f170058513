package email

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// sendKey carries a Send's *sendState through go-mail to the dialer.
type sendKey struct{}

// sendState ties one Send's connection to that Send's context: go-mail honours a context only while
// connecting, so the dialer arranges for the connection to close when the Send's context ends, which
// interrupts a conversation already under way (a shutdown, a lease running out).
type sendState struct {
	ctx  context.Context
	mu   sync.Mutex
	stop []func() bool
}

// done releases the connection from the context; call it when the Send returns.
func (st *sendState) done() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, stop := range st.stop {
		stop()
	}
}

// dialer returns go-mail's dial function. With implicit TLS it does the handshake itself (go-mail
// does so only with its own dialer); go-mail sees a *tls.Conn and treats the session as encrypted.
func dialer(implicit *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if implicit != nil {
			conn, err = (&tls.Dialer{Config: implicit}).DialContext(ctx, network, addr)
		} else {
			conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		if st, ok := ctx.Value(sendKey{}).(*sendState); ok {
			st.mu.Lock()
			st.stop = append(st.stop, context.AfterFunc(st.ctx, func() { conn.Close() }))
			st.mu.Unlock()
		}
		return conn, nil
	}
}
