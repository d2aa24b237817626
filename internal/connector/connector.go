// Package connector is the registry through which the core rooms reach
// external systems. Each connector room (mall, webhook, wdt, k3cloud, …)
// registers its kind once with Register: its settings and what it can do
// (receive pushes, be pulled from, be written to). Ingest, flows and rules
// speak only to the capability interfaces here, never to a concrete
// connector, and every failed outgoing call reaches them as a *CallError
// in one of four classes.
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

// Kind is everything one connector room registers for its kind: the
// settings a system of that kind takes, and what it can do. Register it
// once, in the room's init function; `orderhub check`, start-up and the
// JSON Schema all read this one registration, so a configuration that
// passes check always starts.
type Kind struct {
	config.KindSpec
	// Push receives pushes (sources with mode: push).
	Push PushFactory
	// Pull reads documents incrementally (sources with mode: pull).
	Pull *PullCapability
	// Write writes bills (flow targets).
	Write *WriteCapability
	// Send sends messages (rule channels).
	Send *SendCapability
}

var (
	mu    sync.RWMutex
	kinds = map[string]*Kind{}
)

// Register makes a kind known to the hub. It panics on a duplicate, a
// programming error caught at start-up.
func Register(k Kind) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[k.Kind]; dup {
		panic(fmt.Sprintf("connector: kind %q registered twice", k.Kind))
	}
	spec := k.KindSpec
	spec.Push = k.Push != nil
	spec.Send = k.Send != nil
	spec.Addressed = k.Send != nil && k.Send.Addressed
	if k.Send != nil && k.Send.Variants != nil {
		spec.VariantPrefix, spec.Variants = k.Send.Variants.Prefix, k.Send.Variants.Names
	}
	spec.PullAPIs, spec.WriteAPIs = nil, nil
	if k.Pull != nil {
		for _, a := range k.Pull.APIs {
			spec.PullAPIs = append(spec.PullAPIs, a.Name)
		}
	}
	if k.Write != nil {
		for _, a := range k.Write.APIs {
			spec.WriteAPIs = append(spec.WriteAPIs, a.Name)
		}
	}
	config.RegisterKind(spec)
	kinds[k.Kind] = &k
}

// Lookup returns the registration of a kind.
func Lookup(kind string) (*Kind, bool) {
	mu.RLock()
	defer mu.RUnlock()
	k, ok := kinds[kind]
	return k, ok
}

// NewPushReceiver builds the receiver for env.System's kind.
func NewPushReceiver(env PushEnv) (PushReceiver, error) {
	k, ok := Lookup(env.System.Kind)
	if !ok || k.Push == nil {
		return nil, fmt.Errorf("system %q: kind %q cannot receive pushes (kinds that can: %v)", env.System.Name, env.System.Kind, PushKinds())
	}
	r, err := k.Push(env)
	if err != nil {
		return nil, fmt.Errorf("system %q: %w", env.System.Name, err)
	}
	return r, nil
}

// NewPuller builds the puller for env.System's kind.
func NewPuller(env Env) (Puller, error) {
	k, ok := Lookup(env.System.Kind)
	if !ok || k.Pull == nil {
		return nil, fmt.Errorf("system %q: kind %q cannot be pulled from (kinds that can: %v)", env.System.Name, env.System.Kind, kindsWith(func(k *Kind) bool { return k.Pull != nil }))
	}
	p, err := k.Pull.New(env)
	if err != nil {
		return nil, fmt.Errorf("system %q: %w", env.System.Name, err)
	}
	return p, nil
}

// NewWriter builds the writer for env.System's kind.
func NewWriter(env Env) (Writer, error) {
	k, ok := Lookup(env.System.Kind)
	if !ok || k.Write == nil {
		return nil, fmt.Errorf("system %q: kind %q cannot be written to (kinds that can: %v)", env.System.Name, env.System.Kind, kindsWith(func(k *Kind) bool { return k.Write != nil }))
	}
	w, err := k.Write.New(env)
	if err != nil {
		return nil, fmt.Errorf("system %q: %w", env.System.Name, err)
	}
	return w, nil
}

// NewSender builds the sender for env.System's kind.
func NewSender(env Env) (Sender, error) {
	k, ok := Lookup(env.System.Kind)
	if !ok || k.Send == nil {
		return nil, fmt.Errorf("system %q: kind %q cannot send messages (kinds that can: %v)", env.System.Name, env.System.Kind, kindsWith(func(k *Kind) bool { return k.Send != nil }))
	}
	s, err := k.Send.New(env)
	if err != nil {
		return nil, fmt.Errorf("system %q: %w", env.System.Name, err)
	}
	return s, nil
}

// PushKinds lists the kinds that can receive pushes.
func PushKinds() []string {
	return kindsWith(func(k *Kind) bool { return k.Push != nil })
}

func kindsWith(has func(*Kind) bool) []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for name, k := range kinds {
		if has(k) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
