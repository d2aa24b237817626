// Package stdwebhook is the Standard Webhooks signing scheme
// (https://www.standardwebhooks.com/, spec 1.0.0, symmetric keys), shared by
// the outgoing webhook_out channel and the inbound webhook source with
// `scheme: standard`, so that what one orderhub signs another verifies:
//
//	webhook-id:        msg_…, the same on every retry of one message
//	webhook-timestamp: Unix seconds of the attempt
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>[ v1,<…>…]
//
// The key is the secret's decoded bytes: a secret is written whsec_<base64>.
// The spec's published test vector and its own Go library pin the code (see
// the tests), so a mistake cannot hide by being the same on both sides.
package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/problem"
)

// The scheme's headers, as the spec names them.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix marks a symmetric Standard Webhooks secret.
const SecretPrefix = "whsec_"

// MinKeyBytes is the shortest key the spec allows (24 bytes, 192 bits).
const MinKeyBytes = 24

// SecretHint says how to write or make a secret; config problems carry it.
const SecretHint = "write whsec_ followed by the base64 of at least 24 random bytes, as the sender or receiver shows it, e.g. whsec_$(openssl rand -base64 32); use ${ENV_VAR}"

// ParseSecret returns the key of a whsec_<base64> secret. Its errors never
// quote the secret.
func ParseSecret(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("the secret does not start with whsec_, the Standard Webhooks secret format")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		// Unpadded or URL-safe base64 is refused too: the spec's libraries
		// decode standard padded base64 only, so such a secret would not
		// verify on the other side.
		return nil, errors.New("the part after whsec_ is not standard base64 (A–Z a–z 0–9 + /, padded with =)")
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("the secret decodes to %d bytes; Standard Webhooks needs at least %d", len(key), MinKeyBytes)
	}
	return key, nil
}

// Sign returns the webhook-signature value of one attempt: v1,<base64>.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(timestamp, 10), body))
}

func mac(key []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Headers sets the three headers of one attempt on h.
func Headers(h http.Header, key []byte, id string, at time.Time, body []byte) {
	ts := at.Unix()
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Sign(key, id, ts, body))
}

// MaxIDLen bounds webhook-id: an idempotency key, not a document.
const MaxIDLen = 256

// Verify checks one request's headers and body against keys (the current
// secret's and, while a secret is rotated, the previous one's), with the
// timestamp at most window from now. Any one of the space-separated
// signatures matching any key passes. The failures are 401 problems saying
// what the sender got wrong, with the codes the hub's own scheme uses.
func Verify(keys [][]byte, h http.Header, body []byte, now time.Time, window time.Duration) *problem.Problem {
	id, ts, sig := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		var missing []string
		for _, m := range []struct{ name, v string }{{HeaderID, id}, {HeaderTimestamp, ts}, {HeaderSignature, sig}} {
			if m.v == "" {
				missing = append(missing, m.name)
			}
		}
		detail := "send " + HeaderID + ": <unique message id>, " + HeaderTimestamp + ": <unix seconds> and " +
			HeaderSignature + ": v1,<base64 HMAC-SHA256 of id + \".\" + timestamp + \".\" + body> (Standard Webhooks)"
		if h.Get("X-Orderhub-Signature") != "" {
			detail = "the request is signed with orderhub's own scheme (X-Orderhub-Signature), but this source has scheme: standard; " +
				"sign it the Standard Webhooks way, or remove scheme: standard from the source's system"
		}
		return problem.New(http.StatusUnauthorized, "missing_signature",
			"the request has no "+strings.Join(missing, " or ")+" header", detail)
	}
	if len(id) > MaxIDLen || strings.ContainsAny(id, ". \t") {
		// The spec asks that an id never hold a full stop: it separates the
		// signed parts.
		return problem.New(http.StatusUnauthorized, "bad_webhook_id",
			fmt.Sprintf("%s must be at most %d characters without full stops or spaces", HeaderID, MaxIDLen),
			"send an id like msg_2KWPBgLlAfxdpx2AI54pPJ85f4W, the same on every retry of one message")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return problem.New(http.StatusUnauthorized, "bad_timestamp",
			fmt.Sprintf("%s %s is not Unix seconds", HeaderTimestamp, strconv.Quote(cut(ts, 32))),
			"send the time of the attempt as whole seconds since 1970")
	}
	if age := now.Sub(time.Unix(sec, 0)); age > window || age < -window {
		return problem.New(http.StatusUnauthorized, "stale_timestamp",
			fmt.Sprintf("%s is %s away from the server's clock, more than the %s allowed", HeaderTimestamp, age.Round(time.Second).Abs(), window),
			"sign each attempt when sending it, with the time of the attempt, and keep the sender's clock in sync (NTP)")
	}
	want := make([][]byte, len(keys))
	for i, k := range keys {
		want[i] = mac(k, id, ts, body)
	}
	v1 := 0
	for _, part := range strings.Fields(sig) {
		version, b64, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue // v1a (asymmetric) and versions to come are not ours to check
		}
		v1++
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	if v1 == 0 {
		detail := HeaderSignature + " holds space-separated signatures written v1,<base64>"
		if strings.HasPrefix(strings.TrimSpace(sig), "v1=") {
			detail = "v1=<hex> is orderhub's own scheme; Standard Webhooks writes v1,<base64 HMAC-SHA256 of id + \".\" + timestamp + \".\" + body>"
		}
		return problem.New(http.StatusUnauthorized, "bad_signature", HeaderSignature+" has no v1 signature", detail)
	}
	return problem.New(http.StatusUnauthorized, "bad_signature", "no signature matches the id, timestamp and body",
		"sign id + \".\" + timestamp + \".\" + the exact body bytes with HMAC-SHA256, keyed with the base64-decoded part of the whsec_ secret the two sides share, and send v1,<base64>")
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
