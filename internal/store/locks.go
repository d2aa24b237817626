package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"slices"
)

// On SQLite one connection writes, so ingest transactions never overlap and
// need no locks. On PostgreSQL several run at once, from several committers
// and several nodes, and two kinds of advisory lock keep them correct:
//
//   - an order lock per (source, order_no), taken first, so that two
//     transactions with the same order never both decide its next version;
//     they are taken in ascending key order, so no two transactions wait for
//     each other;
//   - the event tail lock, taken last, just before the events are inserted
//     and held to the commit. Event ids therefore commit in id order, and a
//     consumer that has read up to id N has seen every event below N. Every
//     writer of order_events must take it.
//
// Both are transaction locks: the commit or rollback releases them.
const (
	orderLockClass = 7311    // class of the two-key order locks
	eventTailLock  = 7311002 // one-key lock; one-key and two-key locks never collide
)

// lockOrders takes the order locks for every order in the batch.
func (s *Store) lockOrders(ctx context.Context, tx *sql.Tx, in []Incoming) error {
	if s.dialect != Postgres {
		return nil
	}
	keys := make([]int32, 0, len(in))
	for i := range in {
		keys = append(keys, orderLockKey(in[i].Order.Source, in[i].Order.OrderNo))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	// unnest yields the array in order and the aggregate takes each lock as
	// its row arrives, so the locks are taken in ascending order.
	if _, err := tx.ExecContext(ctx, `SELECT count(pg_advisory_xact_lock($1, k)) FROM unnest($2::int4[]) AS k`, orderLockClass, keys); err != nil {
		return fmt.Errorf("store: locking %d orders: %w", len(keys), err)
	}
	return nil
}

// lockEventTail takes the event tail lock.
func (s *Store) lockEventTail(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, eventTailLock); err != nil {
		return fmt.Errorf("store: taking the event lock: %w", err)
	}
	return nil
}

// orderLockKey hashes an order's identity into the 32 bits of a lock key.
// Two orders sharing a key only wait for each other; nothing else follows.
func orderLockKey(source, orderNo string) int32 {
	h := fnv.New32a()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(orderNo))
	return int32(h.Sum32())
}
