package auth

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is how many failed sign-ins a key (a user name, a client address)
// may have in a row, and how often one more is allowed after that.
type Limit struct {
	Failures int
	Every    time.Duration
}

// Limits are the throttle's limits per user name and per client address.
type Limits struct {
	User, IP Limit
}

// DefaultLimits allow 5 wrong passwords for a name and then one a minute,
// and 20 failures from one address and then one every 6 seconds (an office
// behind one address has many people).
var DefaultLimits = Limits{User: Limit{Failures: 5, Every: time.Minute}, IP: Limit{Failures: 20, Every: 6 * time.Second}}

// maxKeys bounds the memory a spray of made-up names can take: past it,
// keys whose budget is whole again are forgotten.
const maxKeys = 10000

// Throttle counts failed sign-ins per user name and per client address,
// each a token bucket that only failures draw from.
type Throttle struct {
	limits Limits
	mu     sync.Mutex
	keys   map[string]*bucket
}

type bucket struct {
	lim   *rate.Limiter
	burst int
}

// NewThrottle makes a Throttle with limits.
func NewThrottle(limits Limits) *Throttle {
	return &Throttle{limits: limits, keys: map[string]*bucket{}}
}

func (t *Throttle) keysOf(name, ip string) []struct {
	key string
	l   Limit
} {
	return []struct {
		key string
		l   Limit
	}{{"user\x00" + name, t.limits.User}, {"ip\x00" + ip, t.limits.IP}}
}

// Wait is how long a sign-in as name from ip must wait; 0 when it may go
// ahead now.
func (t *Throttle) Wait(name, ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range t.keysOf(name, ip) {
		b := t.keys[k.key]
		if b == nil {
			continue
		}
		if tokens := b.lim.TokensAt(now); tokens < 1 {
			wait = max(wait, time.Duration(math.Ceil((1-tokens)*float64(k.l.Every))))
		}
	}
	return wait
}

// Fail records a failed sign-in as name from ip.
func (t *Throttle) Fail(name, ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) >= maxKeys {
		for k, b := range t.keys {
			if b.lim.TokensAt(now) >= float64(b.burst) {
				delete(t.keys, k)
			}
		}
	}
	for _, k := range t.keysOf(name, ip) {
		b := t.keys[k.key]
		if b == nil {
			b = &bucket{lim: rate.NewLimiter(rate.Every(k.l.Every), k.l.Failures), burst: k.l.Failures}
			t.keys[k.key] = b
		}
		b.lim.AllowN(now, 1)
	}
}

// Succeed forgets name's failures; the address's stay, so one good
// password does not open the way to guessing others'.
func (t *Throttle) Succeed(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, "user\x00"+name)
}
