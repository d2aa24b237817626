package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/connector"
)

// Links signs and reads the hub's public links that mails carry: the
// one-click unsubscribe link of a person on a channel, and the open pixel
// and tracked links of a delivery. A token is its fields, base64url, a
// dot, and a truncated HMAC-SHA256 of them under the store's link secret,
// so anyone holding the link may use it for exactly what it names, and no
// field can be changed without the key.
type Links struct {
	key  []byte
	base string // the hub's address, as order links carry it
}

// NewLinks returns the signer of links under base, keyed by key (the
// store's LinkSecret).
func NewLinks(key []byte, base string) *Links {
	return &Links{key: key, base: strings.TrimRight(base, "/")}
}

// The token kinds, first field of every token, so that one kind's token
// is never taken for another's.
const (
	linkUnsubscribe = "u"
	linkOpen        = "o"
	linkClick       = "c"
)

// ErrBadLink is a token that was not made by this hub's key, or is damaged.
var ErrBadLink = errors.New("the link is not one this orderhub signed, or it was changed")

func (l *Links) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, l.key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:16]
}

// sign makes a token of fields; extra is signed too but not carried (a
// tracked link's target, which travels beside the token).
func (l *Links) sign(fields []string, extra ...string) string {
	payload := strings.Join(fields, "\x00")
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString(l.mac(append([]string{payload}, extra...)...))
}

// open checks a token of kind and n fields and returns its fields.
func (l *Links) open(tok, kind string, n int, extra ...string) ([]string, error) {
	p64, s64, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, ErrBadLink
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(s64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, l.mac(append([]string{string(payload)}, extra...)...)) {
		return nil, ErrBadLink
	}
	f := strings.Split(string(payload), "\x00")
	if len(f) != n || f[0] != kind {
		return nil, ErrBadLink
	}
	return f, nil
}

// Unsubscribe is the one-click unsubscribe link of person on channel (a
// system's name), issued at at.
func (l *Links) Unsubscribe(person, channel string, at time.Time) string {
	return l.base + "/u/" + l.UnsubscribeToken(person, channel, at)
}

// UnsubscribeToken is the token of Unsubscribe's link.
func (l *Links) UnsubscribeToken(person, channel string, at time.Time) string {
	return l.sign([]string{linkUnsubscribe, person, channel, strconv.FormatInt(at.Unix(), 10)})
}

// Unsubscription is what an unsubscribe token names.
type Unsubscription struct {
	Person, Channel string
	IssuedAt        time.Time
}

// ReadUnsubscribe checks an unsubscribe token.
func (l *Links) ReadUnsubscribe(tok string) (Unsubscription, error) {
	f, err := l.open(tok, linkUnsubscribe, 4)
	if err != nil {
		return Unsubscription{}, err
	}
	at, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || f[1] == "" || f[2] == "" {
		return Unsubscription{}, ErrBadLink
	}
	return Unsubscription{Person: f[1], Channel: f[2], IssuedAt: time.Unix(at, 0)}, nil
}

// OpenPixel is the address of delivery id's 1×1 open pixel.
func (l *Links) OpenPixel(id int64) string {
	return l.base + "/t/o/" + l.sign([]string{linkOpen, strconv.FormatInt(id, 10)}) + ".gif"
}

// ReadOpen checks an open pixel's token (without .gif) and returns its
// delivery.
func (l *Links) ReadOpen(tok string) (int64, error) {
	f, err := l.open(tok, linkOpen, 2)
	if err != nil {
		return 0, err
	}
	return parseID(f[1])
}

// Click is target tracked as a link of delivery id's mail. The target is
// signed with the delivery, so the hub redirects only to the links it
// wrote itself and is no open redirect.
func (l *Links) Click(id int64, target string) string {
	return l.base + "/t/c/" + l.sign([]string{linkClick, strconv.FormatInt(id, 10)}, target) + "?u=" + url.QueryEscape(target)
}

// ReadClick checks a tracked link's token against its target and returns
// its delivery.
func (l *Links) ReadClick(tok, target string) (int64, error) {
	f, err := l.open(tok, linkClick, 2, target)
	if err != nil {
		return 0, err
	}
	return parseID(f[1])
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrBadLink
	}
	return id, nil
}

// links returns the signer of the links messages carry, reading the
// store's key on first use.
func (st *Stage) links(ctx context.Context) (*Links, error) {
	st.keyMu.Lock()
	defer st.keyMu.Unlock()
	if st.linkKey == nil {
		k, err := st.store.LinkSecret(ctx)
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		st.linkKey = k
	}
	base := ""
	if rs := st.setup.Load().Rules; rs != nil {
		base = rs.LinkBase()
	}
	return NewLinks(st.linkKey, base), nil
}

// addLinks fills what the hub signs into a message as it goes out on ep:
// each configured person's unsubscribe link for this channel, and, unless
// its rule says track: false, the open pixel and tracked links of its
// delivery. They are made here rather than when the message is queued
// because a fallback sends the same message on another channel, and a
// digest is a delivery of its own.
func (st *Stage) addLinks(l *Links, ep *Endpoint, o *outgoing, now time.Time) {
	rs := st.setup.Load().Rules
	if len(o.msg.To) > 0 {
		to := slices.Clone(o.msg.To)
		for i, rc := range to {
			if rs != nil && rs.people[rc.Person] != nil {
				to[i].UnsubscribeURL = l.Unsubscribe(rc.Person, ep.System, now)
			}
		}
		o.msg.To = to
	}
	track := true
	if rs != nil {
		if r, ok := rs.Rule(o.d.Rule); ok {
			track = r.Track
		}
	}
	if track {
		id := o.d.ID
		o.msg.Track = &connector.Tracking{OpenPixel: l.OpenPixel(id), Click: func(target string) string { return l.Click(id, target) }}
	}
}
