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
// and several nodes. An advisory lock per (source, order_no), taken first and
// in ascending key order (so no two transactions wait for each other), makes
// one transaction at a time decide an order's next version. It is released
// at the commit or rollback. Events need no lock: they are read in order of
// the transaction that wrote them (see EventsAfter).
const orderLockClass = 7311 // class of the two-key order locks

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

// orderLockKey hashes an order's identity into the 32 bits of a lock key.
// Two orders sharing a key only wait for each other; nothing else follows.
func orderLockKey(source, orderNo string) int32 {
	h := fnv.New32a()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(orderNo))
	return int32(h.Sum32())
}
