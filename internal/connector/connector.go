// Package connector is the registry through which the core rooms reach
// external systems. Each connector room (mall, webhook, …) registers what it
// can do for its kind; ingest, flows and rules speak only to the interfaces
// here, never to a concrete connector.
package connector

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/order"
)

// PushRequest is one push as the HTTP layer received it.
type PushRequest struct {
	Header http.Header
	Body   []byte
	Now    time.Time
}

// Pushed is a push that passed verification and parsing.
type Pushed struct {
	// Order is the canonical order; the hub sets Order.Source.
	Order order.Order
	// Raw is what the hub keeps of the body: the bytes as received, with any
	// credential the sender embedded in them replaced.
	Raw []byte
	// Warnings are what is odd about a document that is still accepted
	// (totals that disagree with the lines); they go on the timeline.
	Warnings []order.Warning
}

// PushReceiver verifies and parses pushes from one system. Receive must be
// safe for concurrent use. Its errors are *problem.Problem values that say
// what the sender got wrong.
type PushReceiver interface {
	Receive(req *PushRequest) (*Pushed, error)
}

// PushEnv is what a receiver is built from.
type PushEnv struct {
	System   *config.System
	Location *time.Location // zone for times the sender writes without one
	// ReplayWindow is how far a signed timestamp may be from now.
	ReplayWindow time.Duration
}

// PushFactory builds a receiver for one configured system.
type PushFactory func(env PushEnv) (PushReceiver, error)

var (
	mu   sync.RWMutex
	push = map[string]PushFactory{}
)

// RegisterPush makes kind able to receive pushes.
func RegisterPush(kind string, f PushFactory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := push[kind]; dup {
		panic(fmt.Sprintf("connector: push receiver for kind %q registered twice", kind))
	}
	push[kind] = f
}

// NewPushReceiver builds the receiver for env.System's kind.
func NewPushReceiver(env PushEnv) (PushReceiver, error) {
	mu.RLock()
	f, ok := push[env.System.Kind]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("system %q: kind %q cannot receive pushes (kinds that can: %v)", env.System.Name, env.System.Kind, PushKinds())
	}
	r, err := f(env)
	if err != nil {
		return nil, fmt.Errorf("system %q: %w", env.System.Name, err)
	}
	return r, nil
}

// PushKinds lists the kinds that can receive pushes.
func PushKinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(push))
	for k := range push {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
