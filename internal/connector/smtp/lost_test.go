package smtp

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/connector"
)

// answerLosingProxy passes a connection through to target until the
// client has sent a mail's final dot, and from then on drops what the
// server says: the server has the mail, the client never hears so. It is
// the network losing an answer, as simfault's LoseAnswer is for HTTP.
type answerLosingProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	// dot is closed when the first final dot has passed to the server.
	dot     chan struct{}
	dotOnce sync.Once
}

func newAnswerLosingProxy(t *testing.T, target string) *answerLosingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &answerLosingProxy{ln: ln, target: target, dot: make(chan struct{})}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *answerLosingProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *answerLosingProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		var lost atomic.Bool
		p.wg.Add(2)
		go func() { // client → server, watching for the end of the data
			defer p.wg.Done()
			defer server.Close()
			var tail []byte
			buf := make([]byte, 32<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					seen := append(tail, buf[:n]...)
					if bytes.Contains(seen, []byte("\r\n.\r\n")) {
						lost.Store(true) // before the dot reaches the server
					}
					tail = append([]byte(nil), seen[max(0, len(seen)-4):]...)
					if _, err := server.Write(buf[:n]); err != nil {
						return
					}
					if lost.Load() {
						p.dotOnce.Do(func() { close(p.dot) })
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() { // server → client, until the answer to the dot
			defer p.wg.Done()
			defer client.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !lost.Load() {
					if _, err := client.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					_, _ = io.Copy(io.Discard, server)
					return
				}
			}
		}()
	}
}

// The server took the mail and its answer was lost: the outcome is
// unknown, not a failure to send again blindly, and the mail is in the
// mailbox with the Message-ID a second send repeats.
func TestLostAnswerIsUnknown(t *testing.T) {
	srv := plainServer(t)
	proxy := newAnswerLosingProxy(t, srv.Addr())
	lossy := clientFor(t, srv, TLSNone, func(o *Options) {
		o.Port = proxy.port()
		o.Timeout = time.Second // how long to wait for the answer that will not come
	})
	_, err := lossy.Send(context.Background(), sample())
	ce := wantClass(t, err, connector.Unknown)
	got := only(t, srv)
	if got.Subject != sample().Title {
		t.Fatalf("mailpit holds %q", got.Subject)
	}
	t.Logf("unknown outcome: %v (hint %s)", ce, ce.Hint)

	res, err := clientFor(t, srv, TLSNone).Send(context.Background(), sample())
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageID != got.MessageID {
		t.Errorf("the second send has Message-ID %s; the mail already delivered has %s", res.MessageID, got.MessageID)
	}
}

// Cancelling a send that waits for the answer to its final dot ends it at
// once (the socket is closed under the waiting client), as an unknown
// outcome: the server may have the mail, and here it does. With an hour
// to wait, the test finishing at all shows the cancel took effect.
func TestCancelAfterTheDotIsUnknown(t *testing.T) {
	srv := plainServer(t)
	proxy := newAnswerLosingProxy(t, srv.Addr())
	c := clientFor(t, srv, TLSNone, func(o *Options) { o.Port, o.Timeout = proxy.port(), time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-proxy.dot; cancel() }()
	_, err := c.Send(ctx, sample())
	wantClass(t, err, connector.Unknown)
	// The cancel may beat mailpit to storing the mail (its answer is held
	// back, so nothing else says when it has): wait until it lists it.
	for deadline := time.Now().Add(30 * time.Second); len(srv.Messages(t)) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	only(t, srv)
}
