package app

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// connTracker follows the server's connections so that a drain closes none
// under a sender. An HTTP/1.1 server that closes an idle keep-alive
// connection cannot know whether the sender is writing its next request
// into it at that moment, and once http.Server.Shutdown has begun, a request
// read from any connection is dropped unanswered; either way that push
// fails (a reset, or EOF) and the sender cannot tell whether it was taken.
// So a draining node stops accepting, answers every request with
// Connection: close, and waits until every connection left is answering
// such a request: none new (its first request is on the way), none still
// answering a request that began before the drain with keep-alive, none
// idle after such an answer. The senders' own next requests retire those.
// Only connections nobody sends on for retireGrace are then closed under
// them by Shutdown.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]connUse
}

type connUse uint8

const (
	connNew  connUse = iota // accepted, no request read yet
	connBusy                // answering with Connection: close
	connKept                // answering with keep-alive: it goes idle after
	connIdle                // waiting for the next request
)

// retireGrace bounds how long Shutdown waits for connections to be used
// once more. A sender that is sending uses its connection within
// milliseconds, but on a loaded machine a push can take a few hundred; a
// connection still unused after this is one nobody is sending on (a
// monitor's, a pool's spare), closed as any idle connection would be.
const retireGrace = 500 * time.Millisecond

type connKey struct{}

// withConn is the server's ConnContext: it puts the connection in its
// requests' contexts, for answering.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// track is the server's ConnState hook.
func (t *connTracker) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch state {
	case http.StateNew:
		if t.conns == nil {
			t.conns = map[net.Conn]connUse{}
		}
		t.conns[c] = connNew
	case http.StateActive:
		t.conns[c] = connBusy
	case http.StateIdle:
		t.conns[c] = connIdle
	default: // closed or hijacked
		delete(t.conns, c)
	}
}

// answering records whether the answer under way on c keeps it open.
// ServeHTTP marks every answer kept before it reads the draining flag, and
// retire reads the connections after the flag is set, so an answer that
// missed the flag is always seen as kept.
func (t *connTracker) answering(c net.Conn, keep bool) {
	if c == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.conns[c]; ok {
		if keep {
			t.conns[c] = connKept
		} else {
			t.conns[c] = connBusy
		}
	}
}

// retire waits (at most retireGrace) until every connection is answering
// with Connection: close. Call it once the node is draining and no longer
// accepting.
func (t *connTracker) retire() {
	for deadline := time.Now().Add(retireGrace); t.pending() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// pending counts the connections a sender may still write a request into.
func (t *connTracker) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, u := range t.conns {
		if u != connBusy {
			n++
		}
	}
	return n
}
