package connector

import (
	"context"
)

// WriteAPI describes one kind of bill a target can write.
type WriteAPI struct {
	// Name is how flows name it (`api: sal_order_save`, `api: SAL_RETURNSTOCK`).
	Name    string
	Summary string
	// MaxBatch is the most bills one call carries (1 for APIs that take one
	// bill a call); Batch is the default a flow uses.
	MaxBatch, Batch int
	// CanUpdate says a bill already written may be changed by writing it
	// again with its ID.
	CanUpdate bool
}

// Bill is one mapped document to write.
type Bill struct {
	// No is the bill number, derived from the source document's key so that
	// a bill can always be found from its source.
	No string
	// ID is the target's id of the bill already written; set, the write
	// updates that bill.
	ID string
	// Body is the mapped request for this one bill: the packet the target
	// puts in a batch, or the whole body of a one-bill call.
	Body map[string]any
}

// WriteResult is the outcome for one bill of a call.
type WriteResult struct {
	No string
	// ID is the target's id of the written bill.
	ID string
	// Duplicate says the target refused the bill because its number exists:
	// a retry of a write whose answer was lost. The flow confirms it with
	// Find and then counts it written.
	Duplicate bool
	// Err is the refusal of this bill (nil when written). Its Class is
	// Permanent for a business refusal.
	Err *CallError
}

// Writer writes bills into one configured target system. Methods must be
// safe for concurrent use. Authentication (tokens, sessions) is the
// writer's own business: a session the server lost is renewed inside.
type Writer interface {
	// Write sends bills in one call; len(bills) ≤ the API's MaxBatch. The
	// results are in the order of bills. An error means the whole call
	// failed: a *CallError whose class says whether to retry, slow down or
	// verify first.
	Write(ctx context.Context, api string, bills []Bill) ([]WriteResult, error)
	// Find reports whether a bill with this number exists, and its id.
	Find(ctx context.Context, api, no string) (id string, found bool, err error)
}

// WriteCapability is what a kind registers to be written to.
type WriteCapability struct {
	APIs []WriteAPI
	New  func(env Env) (Writer, error)
}

// API returns the named API.
func (c *WriteCapability) API(name string) (WriteAPI, bool) {
	for _, a := range c.APIs {
		if a.Name == name {
			return a, true
		}
	}
	return WriteAPI{}, false
}
