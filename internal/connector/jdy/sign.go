package jdy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

// The Kingdee API gateway signs every call, the token call included, with
// the developer app's client_secret. Client and simulator both
// use these functions; the published vectors J-1, J-2 and J-3 pin them in
// sign_test.go, so a mistake cannot hide by being the same on both sides.

// Gateway header names and fixed values.
const (
	HeaderClientID    = "X-Api-ClientID"
	HeaderAuthVersion = "X-Api-Auth-Version"
	HeaderTimestamp   = "X-Api-TimeStamp"
	HeaderNonce       = "X-Api-Nonce"
	HeaderSignHeaders = "X-Api-SignHeaders"
	HeaderSignature   = "X-Api-Signature"
	HeaderAppToken    = "app-token"
	HeaderRouterAddr  = "X-GW-Router-Addr"

	AuthVersion = "2.0"
	SignHeaders = "X-Api-TimeStamp,X-Api-Nonce"
)

// hexB64 is base64 of the lower-case hex of HMAC-SHA256(key, msg): the
// gateway encodes both the request signature and app_signature this way.
func hexB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	var sum [sha256.Size]byte
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], m.Sum(sum[:0]))
	return base64.StdEncoding.EncodeToString(hx[:])
}

// AppSignature is the app_signature parameter of the token call:
// base64(hex(HMAC-SHA256(app_secret, app_key))).
func AppSignature(appKey, appSecret string) string {
	return hexB64(appSecret, appKey)
}

// Signature is X-Api-Signature for a string to sign.
func Signature(clientSecret, stringToSign string) string {
	return hexB64(clientSecret, stringToSign)
}

// StringToSign builds the gateway's string to sign: method, encoded path,
// the sorted query with every value encoded twice, then the nonce and
// timestamp lines. Every part ends with a newline, the last one too; the
// body is not signed.
func StringToSign(method, path string, query url.Values, nonce, timestamp string) string {
	var b strings.Builder
	b.Grow(len(method) + 3*len(path) + 64 + 8*len(query)*8)
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('\n')
	b.WriteString(escape(path))
	b.WriteByte('\n')
	b.WriteString(signedQuery(query))
	b.WriteByte('\n')
	b.WriteString("x-api-nonce:")
	b.WriteString(nonce)
	b.WriteByte('\n')
	b.WriteString("x-api-timestamp:")
	b.WriteString(timestamp)
	b.WriteByte('\n')
	return b.String()
}

// signedQuery is the query line of the string to sign.
func signedQuery(q url.Values) string {
	return joinQuery(q, func(v string) string { return escape(escape(v)) })
}

// EncodeQuery is the query as sent on the wire: sorted, each name and
// value encoded once with the same encoder the signature uses, so that the
// values the gateway decodes are the ones that were signed.
func EncodeQuery(q url.Values) string {
	return joinQuery(q, escape)
}

func joinQuery(q url.Values, enc func(string) string) string {
	if len(q) == 0 {
		return ""
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		vs := q[k]
		if len(vs) > 1 {
			vs = append([]string(nil), vs...)
			sort.Strings(vs)
		}
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(k))
			b.WriteByte('=')
			b.WriteString(enc(v))
		}
	}
	return b.String()
}

// escape percent-encodes every byte but the RFC 3986 unreserved characters,
// as Python's quote(s, safe="") does (the gateway SDKs' encoder): "/" and
// "=" are encoded, a space is %20, never "+".
func escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexdigits = "0123456789ABCDEF"
	out := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hexdigits[c>>4], hexdigits[c&15])
	}
	return string(out)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
