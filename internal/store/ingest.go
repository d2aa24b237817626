package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"orderhub/internal/order"
)

// Incoming is one verified document on its way into the store.
type Incoming struct {
	Order      order.Order // Order.Source names the source
	Raw        []byte      // the payload as kept
	ReceivedAt time.Time
	// Warnings are recorded on the timeline, as "warning" steps, with the
	// version (or stale step) the document makes.
	Warnings []order.Warning

	// Set by Prepare.
	hash      [32]byte
	canonical []byte
	prepared  bool
}

// Prepare computes what Apply needs of the document besides the database:
// its payload hash and canonical encoding. Apply prepares documents that
// were not, but a caller that prepares in its own goroutine keeps that work
// off the one transaction that all concurrent pushes share.
func (in *Incoming) Prepare() error {
	if in.prepared {
		return nil
	}
	canonical, err := json.Marshal(&in.Order)
	if err != nil {
		return fmt.Errorf("store: encoding order %s/%s: %w", in.Order.Source, in.Order.OrderNo, err)
	}
	in.hash, in.canonical, in.prepared = sha256.Sum256(in.Raw), canonical, true
	return nil
}

// Result says what a document did to its order.
type Result string

// Results of applying a document.
const (
	// ResultCreated: the order was new.
	ResultCreated Result = "created"
	// ResultUpdated: the document differs from the stored version; a new
	// version was written.
	ResultUpdated Result = "updated"
	// ResultDuplicate: the same payload as the stored version; nothing written.
	ResultDuplicate Result = "duplicate"
	// ResultStale: older (by the source's own updated_at) than the stored
	// version; kept on the timeline, the order unchanged.
	ResultStale Result = "stale"
)

// Outcome is what happened to one Incoming.
type Outcome struct {
	Result  Result            `json:"result"`
	OrderID int64             `json:"-"`
	Version int64             `json:"version"`
	Events  []order.EventType `json:"events"`
}

// ApplyHook runs inside Apply's transaction after the rows are written, to
// queue the work the changes cause (River jobs) atomically with them.
type ApplyHook func(ctx context.Context, tx *sql.Tx, in []Incoming, out []Outcome) error

type orderKey struct{ source, orderNo string }

// current is an order's state as Apply walks through a batch.
type current struct {
	id         int64
	version    int64
	hash       [32]byte
	docUpdated int64
	firstSeen  int64
	canonical  []byte       // as stored; decoded only when a change needs comparing
	order      *order.Order // decoded or new
	dirty      bool
}

type versionRow struct {
	key        orderKey
	version    int64
	receivedAt int64
	hash       [32]byte
	raw        []byte
}

type eventRow struct {
	key      orderKey
	version  int64
	typ      order.EventType
	from, to order.Status
	at       int64
}

type timelineRow struct {
	key    orderKey
	at     int64
	stage  string
	detail []byte
}

// Apply writes a batch of documents in one transaction: for each, in order,
// it compares with the order's stored (or earlier-in-batch) version and
// writes a new version and its events when the payload changed, or a
// timeline step when the document is older than what is stored. hook, if not
// nil, runs in the same transaction. Nothing is written unless everything is.
func (s *Store) Apply(ctx context.Context, in []Incoming, hook ApplyHook) ([]Outcome, error) {
	if len(in) == 0 {
		return nil, nil
	}
	for i := range in {
		if err := in[i].Prepare(); err != nil {
			return nil, err
		}
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: beginning the ingest transaction: %w", err)
	}
	defer tx.Rollback()
	if err := s.lockOrders(ctx, tx, in); err != nil {
		return nil, err
	}
	cur, err := s.loadCurrent(ctx, tx, in)
	if err != nil {
		return nil, err
	}

	out := make([]Outcome, len(in))
	var versions []versionRow
	var events []eventRow
	var timeline []timelineRow
	for i := range in {
		inc := &in[i]
		k := orderKey{inc.Order.Source, inc.Order.OrderNo}
		c := cur[k]
		now := inc.ReceivedAt.UnixMicro()
		docUpdated := int64(0)
		if !inc.Order.UpdatedAt.IsZero() {
			docUpdated = inc.Order.UpdatedAt.UnixMicro()
		}
		var prev *order.Order
		switch {
		case c == nil:
			c = &current{firstSeen: now}
			cur[k] = c
			out[i].Result = ResultCreated
		case c.hash == inc.hash:
			out[i] = Outcome{Result: ResultDuplicate, Version: c.version}
			continue
		case docUpdated != 0 && c.docUpdated > docUpdated:
			out[i] = Outcome{Result: ResultStale, Version: c.version}
			timeline = append(timeline, timelineRow{k, now, "received", stageDetail(ResultStale, c.version, nil)})
			timeline = appendWarnings(timeline, k, now, inc.Warnings)
			continue
		default:
			if prev, err = c.decoded(); err != nil {
				return nil, fmt.Errorf("store: order %s/%s: %w", k.source, k.orderNo, err)
			}
			out[i].Result = ResultUpdated
		}
		evs := order.Transition(prev, &inc.Order)
		c.version++
		c.hash, c.docUpdated, c.order, c.canonical, c.dirty = inc.hash, docUpdated, &inc.Order, inc.canonical, true
		out[i].Version, out[i].Events = c.version, evs

		from := order.Status("")
		if prev != nil {
			from = prev.Status
		}
		versions = append(versions, versionRow{k, c.version, now, inc.hash, inc.Raw})
		for _, e := range evs {
			events = append(events, eventRow{k, c.version, e, from, inc.Order.Status, now})
		}
		// No "received" row: a version is its own step (see Timeline).
		timeline = appendWarnings(timeline, k, now, inc.Warnings)
	}
	if len(versions) == 0 && len(timeline) == 0 {
		// Only duplicates: nothing to write, nothing to commit.
		return s.fillIDs(out, in, cur), nil
	}
	if err := s.upsertOrders(ctx, tx, cur, in); err != nil {
		return nil, err
	}
	if err := s.insertVersions(ctx, tx, cur, versions); err != nil {
		return nil, err
	}
	if err := s.insertTimeline(ctx, tx, cur, timeline); err != nil {
		return nil, err
	}
	if err := s.insertEvents(ctx, tx, cur, events); err != nil {
		return nil, err
	}
	out = s.fillIDs(out, in, cur)
	if hook != nil {
		if err := hook(ctx, tx, in, out); err != nil {
			return nil, fmt.Errorf("store: queueing follow-up work: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: committing %d documents: %w", len(in), err)
	}
	if f := s.eventsCommitted.Load(); f != nil && len(events) > 0 {
		(*f)()
	}
	if s.ckpt != nil {
		s.ckpt.catchUp(ctx, s.write)
	}
	return out, nil
}

// appendWarnings adds a "warning" step for each warning; its detail is the
// warning itself ({"code", "field", "message"}).
func appendWarnings(timeline []timelineRow, k orderKey, at int64, ws []order.Warning) []timelineRow {
	for _, w := range ws {
		b, _ := json.Marshal(w) // plain strings: cannot fail
		timeline = append(timeline, timelineRow{k, at, "warning", b})
	}
	return timeline
}

func (c *current) decoded() (*order.Order, error) {
	if c.order != nil {
		return c.order, nil
	}
	var o order.Order
	if err := json.Unmarshal(c.canonical, &o); err != nil {
		return nil, fmt.Errorf("reading the stored canonical order: %w", err)
	}
	c.order = &o
	return c.order, nil
}

func stageDetail(r Result, version int64, evs []order.EventType) []byte {
	b, _ := json.Marshal(struct {
		Result  Result            `json:"result"`
		Version int64             `json:"version"`
		Events  []order.EventType `json:"events,omitempty"`
	}{r, version, evs})
	return b
}

func (s *Store) fillIDs(out []Outcome, in []Incoming, cur map[orderKey]*current) []Outcome {
	for i := range out {
		out[i].OrderID = cur[orderKey{in[i].Order.Source, in[i].Order.OrderNo}].id
	}
	return out
}

// loadCurrent reads the stored state of every order the batch touches.
func (s *Store) loadCurrent(ctx context.Context, tx *sql.Tx, in []Incoming) (map[orderKey]*current, error) {
	cur := make(map[orderKey]*current, len(in))
	keys := make([]orderKey, 0, len(in))
	seen := make(map[orderKey]bool, len(in))
	for i := range in {
		k := orderKey{in[i].Order.Source, in[i].Order.OrderNo}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	err := s.chunks(ctx, tx, qLoadCurrent, len(keys), func(i int, args []any) []any {
		return append(args, keys[i].source, keys[i].orderNo)
	}, func(rows *sql.Rows) error {
		var c current
		var k orderKey
		var hash []byte
		if err := rows.Scan(&c.id, &k.source, &k.orderNo, &c.version, &hash, &c.docUpdated, &c.firstSeen, &c.canonical); err != nil {
			return err
		}
		copy(c.hash[:], hash)
		cur[k] = &c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading current orders: %w", err)
	}
	return cur, nil
}

// upsertOrders writes the final state of every order the batch changed, new
// and existing alike, and learns the ids of new ones.
func (s *Store) upsertOrders(ctx context.Context, tx *sql.Tx, cur map[orderKey]*current, in []Incoming) error {
	var dirty []orderKey
	seen := map[orderKey]bool{}
	for i := range in { // batch order, so ids follow arrival
		k := orderKey{in[i].Order.Source, in[i].Order.OrderNo}
		if c := cur[k]; c.dirty && !seen[k] {
			seen[k] = true
			dirty = append(dirty, k)
		}
	}
	now := time.Now().UnixMicro()
	err := s.chunks(ctx, tx, qUpsertOrders, len(dirty), func(i int, args []any) []any {
		k := dirty[i]
		c := cur[k]
		return append(args, k.source, k.orderNo, c.version, string(c.order.Status), int64(c.order.Total),
			c.hash[:], c.docUpdated, c.firstSeen, now, string(c.canonical))
	}, func(rows *sql.Rows) error {
		var id int64
		var k orderKey
		if err := rows.Scan(&id, &k.source, &k.orderNo); err != nil {
			return err
		}
		cur[k].id = id
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: writing %d orders: %w", len(dirty), err)
	}
	return nil
}

func (s *Store) insertVersions(ctx context.Context, tx *sql.Tx, cur map[orderKey]*current, versions []versionRow) error {
	if err := s.chunks(ctx, tx, qInsertVersions, len(versions), func(i int, a []any) []any {
		v := &versions[i]
		return append(a, cur[v.key].id, v.version, v.receivedAt, v.hash[:], v.raw)
	}, nil); err != nil {
		return fmt.Errorf("store: writing order versions: %w", err)
	}
	return nil
}

func (s *Store) insertTimeline(ctx context.Context, tx *sql.Tx, cur map[orderKey]*current, timeline []timelineRow) error {
	if err := s.chunks(ctx, tx, qInsertTimeline, len(timeline), func(i int, a []any) []any {
		t := &timeline[i]
		return append(a, cur[t.key].id, t.at, t.stage, string(t.detail))
	}, nil); err != nil {
		return fmt.Errorf("store: writing the timeline: %w", err)
	}
	return nil
}

func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, cur map[orderKey]*current, events []eventRow) error {
	if err := s.chunks(ctx, tx, qInsertEvents, len(events), func(i int, a []any) []any {
		e := &events[i]
		return append(a, cur[e.key].id, e.version, string(e.typ), string(e.from), string(e.to), e.at)
	}, nil); err != nil {
		return fmt.Errorf("store: writing order events: %w", err)
	}
	return nil
}
