// Package simfault injects the failures of real services into the
// connectors' simulators: latency, server errors, throttling, and a write
// whose answer is lost after it committed. Every simulator uses the same
// injector, so the connector conformance suite and the fault tests drive
// them all alike.
package simfault

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Kind is one kind of fault.
type Kind string

// The faults a simulator can be asked to inject.
const (
	// Latency delays the answer by Fault.Latency.
	Latency Kind = "latency"
	// ServerError answers HTTP 502 without doing anything.
	ServerError Kind = "server_error"
	// Throttle answers with the provider's own throttling answer without
	// doing anything.
	Throttle Kind = "throttle"
	// LoseAnswer does the work (commits the write) and then closes the
	// connection without answering: the client sees a reset after its
	// request was sent, and must verify before writing again.
	LoseAnswer Kind = "lose_answer"
	// SessionLoss makes the provider forget its sessions or tokens before
	// the call, so the client must log in again.
	SessionLoss Kind = "session_loss"
)

// Fault says what to inject and how often.
type Fault struct {
	Kind Kind
	// Count is how many calls get the fault; 0 with Rate 0 means every call
	// until Clear.
	Count int
	// Rate, when set, injects into that fraction of calls (0 < Rate ≤ 1),
	// drawn from the injector's seeded source.
	Rate float64
	// Latency is the delay of a Latency fault.
	Latency time.Duration
	// Match, when set, limits the fault to requests it accepts (a path, an
	// operation).
	Match func(*http.Request) bool
}

// Injector holds the faults a simulator applies. The zero value injects
// nothing; it is safe for concurrent use.
type Injector struct {
	mu     sync.Mutex
	faults []*Fault
	rng    *rand.Rand
	counts map[Kind]int
}

// Seed makes Rate draws repeatable.
func (in *Injector) Seed(seed uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Inject adds a fault.
func (in *Injector) Inject(f Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faults = append(in.faults, &f)
}

// Clear removes every fault.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faults = nil
}

// Injected reports how many times each kind was injected.
func (in *Injector) Injected() map[Kind]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[Kind]int, len(in.counts))
	for k, n := range in.counts {
		out[k] = n
	}
	return out
}

// Draw decides the faults for one request: at most one of each kind.
func (in *Injector) Draw(r *http.Request) Set {
	in.mu.Lock()
	defer in.mu.Unlock()
	var s Set
	kept := in.faults[:0]
	for _, f := range in.faults {
		if f.Match != nil && !f.Match(r) {
			kept = append(kept, f)
			continue
		}
		hit := true
		if f.Rate > 0 {
			if in.rng == nil {
				in.rng = rand.New(rand.NewPCG(1, 2))
			}
			hit = in.rng.Float64() < f.Rate
		}
		if hit {
			s.add(f)
			if in.counts == nil {
				in.counts = map[Kind]int{}
			}
			in.counts[f.Kind]++
			if f.Count > 0 {
				f.Count--
				if f.Count == 0 {
					continue // spent
				}
			}
		}
		kept = append(kept, f)
	}
	in.faults = kept
	return s
}

// Set is the faults drawn for one request.
type Set struct {
	kinds   map[Kind]bool
	latency time.Duration
}

func (s *Set) add(f *Fault) {
	if s.kinds == nil {
		s.kinds = map[Kind]bool{}
	}
	s.kinds[f.Kind] = true
	if f.Kind == Latency {
		s.latency += f.Latency
	}
}

// Has reports whether the set holds a kind.
func (s Set) Has(k Kind) bool { return s.kinds[k] }

// Before applies what comes before the simulator's own work: the delay,
// and a server error, after which the simulator must stop (handled true).
// Throttle, SessionLoss and LoseAnswer are the simulator's to act on, with
// its provider's own answers.
func (s Set) Before(w http.ResponseWriter, r *http.Request) (handled bool) {
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-r.Context().Done():
			return true
		}
	}
	if s.Has(ServerError) {
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		return true
	}
	return false
}

// DropAnswer closes the client's connection without an answer, after the
// simulator did its work; it is what LoseAnswer means on the wire.
func DropAnswer(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// Without a hijackable connection (HTTP/2), abort the handler: the
	// server resets the stream.
	panic(http.ErrAbortHandler)
}
