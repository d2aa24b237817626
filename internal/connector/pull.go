package connector

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/order"
)

// PullAPI describes one API a kind can pull documents from, incrementally
// by the documents' last-modified time.
type PullAPI struct {
	// Name is how sources name it (`api: trade.query`); the same on every
	// route to one provider.
	Name    string
	Summary string
	// MaxSpan is the widest window one call may ask for.
	MaxSpan time.Duration
	// PageSize is the largest page the API returns.
	PageSize int
	// Document says what the documents are, for the console ("trade",
	// "refund stock-in").
	Document string
}

// PullRequest asks for one page of the documents modified in [From, To].
// Both ends are inclusive, as the providers take them; the window never
// spans more than the API's MaxSpan.
type PullRequest struct {
	API      string
	From, To time.Time
	PageNo   int // 0-based
	PageSize int
}

// PullPage is one page of a window.
type PullPage struct {
	Docs []Document
	// Total is how many documents the whole window holds, as the provider
	// counted them; -1 when this page did not say.
	Total int
}

// Document is one pulled document.
type Document struct {
	// Order is the canonical form; OrderNo is the document's own number and
	// UpdatedAt its last-modified time.
	Order order.Order
	// Raw is the document as the provider sent it.
	Raw json.RawMessage
}

// Puller reads documents from one configured system. Pull must be safe for
// concurrent use; its errors are *CallError.
type Puller interface {
	Pull(ctx context.Context, req PullRequest) (*PullPage, error)
}

// Env is what a connector builds a client from.
type Env struct {
	System *config.System
	// Location is the zone for times written without one.
	Location *time.Location
	// HTTP is the client to call with; its Timeout is the system's timeout.
	HTTP *http.Client
	Log  *slog.Logger
	// Now is the clock (for signatures and token expiry); time.Now when nil.
	Now func() time.Time
	// Tokens caches access tokens across the nodes sharing a store; a
	// connector uses a MemoryTokens of its own when it is nil.
	Tokens TokenCache
}

// Clock returns env.Now or time.Now.
func (env Env) Clock() func() time.Time {
	if env.Now != nil {
		return env.Now
	}
	return time.Now
}

// PullCapability is what a kind registers to be pulled from.
type PullCapability struct {
	APIs []PullAPI
	New  func(env Env) (Puller, error)
}

// API returns the named API.
func (c *PullCapability) API(name string) (PullAPI, bool) {
	for _, a := range c.APIs {
		if a.Name == name {
			return a, true
		}
	}
	return PullAPI{}, false
}
