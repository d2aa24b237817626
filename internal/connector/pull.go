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
	// Refused are the documents of the page that cannot be turned into the
	// canonical form. They are the page's as much as Docs (a page is full
	// when Docs and Refused together fill it); the rest of the page is good
	// and is stored without them.
	Refused []RefusedDocument
	// Total is how many documents the whole window holds, as the provider
	// counted them; -1 when this page did not say.
	Total int
}

// Len is how many documents the page holds, refused ones included.
func (p *PullPage) Len() int { return len(p.Docs) + len(p.Refused) }

// RefusedDocument is a pulled document that cannot be turned into an
// order: a field the canonical form cannot hold, or text that is not a
// document at all. It is recorded where a person sees it, and stored once a
// later pull (after the document is fixed at the source, or a backfill)
// converts it.
type RefusedDocument struct {
	// No is the document's own number; when even that cannot be read, a
	// key made from its text ("?" and a hash), so that it is recorded once.
	No string
	// Modified is its last-modified time; zero when it cannot be read.
	Modified time.Time
	// Field and Value are what failed ("goods_list[0].num", "1.5000");
	// empty when the document as a whole cannot be read.
	Field, Value string
	// Reason says what is wrong; Hint what to do, in Chinese.
	Reason, Hint string
	// Raw is the document as the provider sent it.
	Raw json.RawMessage
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
