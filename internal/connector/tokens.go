package connector

import (
	"context"
	"sync"
	"time"
)

// TokenCache keeps access tokens a connector fetches (a 钉钉 app's
// access_token) until they expire. The hub gives connectors one that lives
// in the store, so that several nodes share a token and one of them fetches
// a new one, rather than each node calling the provider's rate-limited
// token endpoint.
type TokenCache interface {
	// Token returns key's value while it is valid; otherwise it calls
	// fetch, once among all callers sharing the cache, and keeps what
	// fetch returns until expires.
	Token(ctx context.Context, key string, fetch func(ctx context.Context) (value string, expires time.Time, err error)) (string, error)
	// Forget drops key: the provider said the token is no longer valid.
	Forget(ctx context.Context, key string) error
}

// MemoryTokens is a TokenCache for one process (tests, and connectors
// built without the hub's).
type MemoryTokens struct {
	Now func() time.Time // time.Now when nil

	mu     sync.Mutex
	tokens map[string]memToken
	keys   map[string]*sync.Mutex
}

type memToken struct {
	value   string
	expires time.Time
}

func (m *MemoryTokens) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Token implements TokenCache.
func (m *MemoryTokens) Token(ctx context.Context, key string, fetch func(context.Context) (string, time.Time, error)) (string, error) {
	m.mu.Lock()
	if m.keys == nil {
		m.keys, m.tokens = map[string]*sync.Mutex{}, map[string]memToken{}
	}
	km := m.keys[key]
	if km == nil {
		km = new(sync.Mutex)
		m.keys[key] = km
	}
	m.mu.Unlock()
	// One fetch per key at a time: the others wait and take its token.
	km.Lock()
	defer km.Unlock()
	m.mu.Lock()
	t, ok := m.tokens[key]
	m.mu.Unlock()
	if ok && m.now().Before(t.expires) {
		return t.value, nil
	}
	v, exp, err := fetch(ctx)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	m.tokens[key] = memToken{v, exp}
	m.mu.Unlock()
	return v, nil
}

// Forget implements TokenCache.
func (m *MemoryTokens) Forget(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.tokens, key)
	m.mu.Unlock()
	return nil
}
