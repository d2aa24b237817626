package webhookout

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"orderhub/internal/connector/simfault"
	"orderhub/internal/connector/simrecord"
	"orderhub/internal/connector/stdwebhook"
)

// SimConfig configures a Sim.
type SimConfig struct {
	// Now is the receiver's clock; time.Now when nil.
	Now func() time.Time
	// Window is how far webhook-timestamp may be from Now; 5 minutes, as
	// the spec's libraries allow, when zero.
	Window time.Duration
	// Keep bounds the messages held for Received (0 keeps all).
	Keep int
}

// Received is one message the receiver took.
type Received struct {
	ID        string
	Timestamp int64
	Header    http.Header
	Body      []byte
}

// Sim is a strict local receiver, as a team's system that checks
// Standard Webhooks signatures would be: POST with application/json, the
// three headers, the timestamp within the window, a v1 signature by one of
// its secrets. It takes each webhook-id once (a retry of a message it took
// is answered 200 and not taken again), and answers 410 once disabled.
// Faults: ServerError answers 502, Throttle 429 with Retry-After: 1,
// LoseAnswer takes the message and drops the connection, Latency delays.
type Sim struct {
	cfg    SimConfig
	keys   [][]byte
	faults simfault.Injector

	mu       sync.Mutex
	got      simrecord.List[Received]
	seen     map[string]bool // every id taken: a simulator lives for one test, demo or benchmark
	dups     int
	refusals map[string]int
	gone     bool
}

// NewSim returns a receiver accepting signatures by any of secrets
// (whsec_…; several while one is rotated).
func NewSim(cfg SimConfig, secrets ...string) (*Sim, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Window <= 0 {
		cfg.Window = 5 * time.Minute
	}
	s := &Sim{cfg: cfg, got: simrecord.New[Received](cfg.Keep), seen: map[string]bool{}, refusals: map[string]int{}}
	for i, sec := range secrets {
		k, err := stdwebhook.ParseSecret(sec)
		if err != nil {
			return nil, fmt.Errorf("webhookout sim: secret %d: %w", i+1, err)
		}
		s.keys = append(s.keys, k)
	}
	if len(s.keys) == 0 {
		return nil, fmt.Errorf("webhookout sim: no secret")
	}
	return s, nil
}

// Faults is the receiver's fault injector.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// SetGone makes the receiver answer 410 Gone, as one whose owner disabled
// the endpoint.
func (s *Sim) SetGone(gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = gone
}

// Received lists the messages taken, oldest first (the newest Keep).
func (s *Sim) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.Newest()
}

// Len counts every message taken.
func (s *Sim) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.Added()
}

// Duplicates counts attempts of messages already taken.
func (s *Sim) Duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups
}

// Refusals counts the requests refused, by problem code (bad_signature, …).
func (s *Sim) Refusals() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.refusals))
	for k, v := range s.refusals {
		out[k] = v
	}
	return out
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	faults := s.faults.Draw(r)
	if faults.Before(w, r) {
		return
	}
	if faults.Has(simfault.Throttle) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.refuse("content_type")
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	if p := stdwebhook.Verify(s.keys, r.Header, body, s.cfg.Now(), s.cfg.Window); p != nil {
		s.refuse(p.Code)
		p.Write(w)
		return
	}
	if !json.Valid(body) {
		s.refuse("malformed_json")
		http.Error(w, "the body is not JSON", http.StatusBadRequest)
		return
	}
	id := r.Header.Get(stdwebhook.HeaderID)
	ts, _ := strconv.ParseInt(r.Header.Get(stdwebhook.HeaderTimestamp), 10, 64)
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		http.Error(w, "this endpoint is disabled", http.StatusGone)
		return
	}
	dup := s.seen[id]
	if dup {
		s.dups++
	} else {
		s.seen[id] = true
		s.got.Add(Received{ID: id, Timestamp: ts, Header: r.Header.Clone(), Body: body})
	}
	s.mu.Unlock()
	if faults.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}{id, dup})
}

func (s *Sim) refuse(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals[code]++
}
