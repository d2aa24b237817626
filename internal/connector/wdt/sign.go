package wdt

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SignLength is the unit in which the openapi2 signature counts the length
// of keys and values. The official PHP and Java clients count characters;
// several third-party clients count UTF-8 bytes. The two agree for ASCII,
// which is all this client sends; they differ for Chinese values (vector
// W-2), so the unit is a setting.
type SignLength string

// The length units.
const (
	SignChars SignLength = "chars"
	SignBytes SignLength = "bytes"
)

func (u SignLength) length(s string) int {
	if u == SignBytes {
		return len(s)
	}
	return utf8.RuneCountInString(s)
}

// SignOpenAPI computes the openapi2 signature (erp.md 1.2) of params, which
// hold every parameter that will be sent except sign: the pairs sorted by
// key, each written "LL-key:VVVV-value" with the lengths zero-padded to 2
// and 4 digits, joined by ";", the app secret appended, MD5 in lowercase hex.
func SignOpenAPI(params map[string]string, appsecret string, unit SignLength) string {
	return hex.EncodeToString(md5Sum(openAPIString(params, appsecret, unit)))
}

// openAPIString is the text SignOpenAPI hashes.
func openAPIString(params map[string]string, appsecret string, unit SignLength) string {
	keys := sortedKeys(params)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		v := params[k]
		b.WriteString(pad(unit.length(k), 2))
		b.WriteByte('-')
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(pad(unit.length(v), 4))
		b.WriteByte('-')
		b.WriteString(v)
	}
	b.WriteString(appsecret)
	return b.String()
}

// pad writes n with at least width digits; a longer number keeps all its
// digits, as PHP's %04d does.
func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

func md5Sum(s string) []byte {
	h := md5.Sum([]byte(s))
	return h[:]
}

// The TOP signature methods 奇门 accepts.
const (
	SignMD5        = "md5"
	SignHMAC       = "hmac"
	SignHMACSHA256 = "hmac-sha256"
)

// SignTOP computes the TOP signature 奇门 checks (erp.md 1.7): every
// parameter but sign with a non-empty key and value, sorted by key, written
// key+value with no separators; then MD5(secret+s+secret), HMAC-MD5 or
// HMAC-SHA256 keyed by the app secret, in uppercase hex.
func SignTOP(params map[string]string, appSecret, method string) (string, error) {
	s := topString(params)
	var sum []byte
	switch method {
	case SignMD5:
		sum = md5Sum(appSecret + s + appSecret)
	case SignHMAC:
		sum = hmacSum(md5.New, appSecret, s)
	case SignHMACSHA256:
		sum = hmacSum(sha256.New, appSecret, s)
	default:
		return "", fmt.Errorf("sign_method %q is not one of md5, hmac, hmac-sha256", method)
	}
	return strings.ToUpper(hex.EncodeToString(sum)), nil
}

func topString(params map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(params) {
		if v := params[k]; k != "" && v != "" {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}

func hmacSum(h func() hash.Hash, key, msg string) []byte {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// sortedKeys returns the keys but sign, in byte order (PHP ksort, Java
// Arrays.sort over ASCII keys).
func sortedKeys(params map[string]string) []string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sign" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
