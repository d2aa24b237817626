package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Tokens is a connector.TokenCache in the store: the nodes sharing a store
// share access tokens, and one of them fetches a new one when it expires.
type Tokens struct {
	s  *Store
	mu sync.Mutex
	// keys serializes fetches within this process; on PostgreSQL an
	// advisory lock serializes them across nodes.
	keys map[string]*sync.Mutex
}

// Tokens returns the store's token cache.
func (s *Store) Tokens() *Tokens { return &Tokens{s: s, keys: map[string]*sync.Mutex{}} }

const tokenLockClass = 7312 // class of the token fetch locks

func (t *Tokens) read(ctx context.Context, q Querier, key string, now time.Time) (string, bool, error) {
	var v string
	var exp int64
	err := q.QueryRowContext(ctx, t.s.rebind(`SELECT value, expires_at FROM connector_tokens WHERE key = ?`), key).Scan(&v, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: reading token %s: %w", key, err)
	}
	return v, now.UnixMicro() < exp, nil
}

// Token implements connector.TokenCache.
func (t *Tokens) Token(ctx context.Context, key string, fetch func(context.Context) (string, time.Time, error)) (string, error) {
	if v, ok, err := t.read(ctx, t.s.read, key, time.Now()); err != nil || ok {
		return v, err
	}
	t.mu.Lock()
	km := t.keys[key]
	if km == nil {
		km = new(sync.Mutex)
		t.keys[key] = km
	}
	t.mu.Unlock()
	km.Lock()
	defer km.Unlock()
	if t.s.dialect == Postgres {
		// Held on a connection of its own for the length of the fetch, so
		// that one node fetches while the others wait and then read it.
		conn, err := t.s.write.Conn(ctx)
		if err != nil {
			return "", fmt.Errorf("store: locking token %s: %w", key, err)
		}
		defer conn.Close()
		h := orderLockKey("token", key)
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, tokenLockClass, h); err != nil {
			return "", fmt.Errorf("store: locking token %s: %w", key, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, tokenLockClass, h)
	}
	if v, ok, err := t.read(ctx, t.s.write, key, time.Now()); err != nil || ok {
		return v, err // fetched by another meanwhile
	}
	v, exp, err := fetch(ctx)
	if err != nil {
		return "", err
	}
	if _, err := t.s.write.ExecContext(ctx, t.s.rebind(`INSERT INTO connector_tokens (key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`), key, v, exp.UnixMicro()); err != nil {
		return "", fmt.Errorf("store: keeping token %s: %w", key, err)
	}
	return v, nil
}

// Forget implements connector.TokenCache.
func (t *Tokens) Forget(ctx context.Context, key string) error {
	if _, err := t.s.write.ExecContext(ctx, t.s.rebind(`DELETE FROM connector_tokens WHERE key = ?`), key); err != nil {
		return fmt.Errorf("store: forgetting token %s: %w", key, err)
	}
	return nil
}
