package aliyunsms

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// AlgorithmV3 names the V3 signature in the Authorization header.
const AlgorithmV3 = "ACS3-HMAC-SHA256"

// EmptySHA256 is the hex SHA-256 of an empty body, the
// x-acs-content-sha256 of a call without one.
const EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// percentEncode is Alibaba Cloud's encoding for signatures (V1 and V3):
// UTF-8, only A-Z a-z 0-9 - _ . ~ kept, everything else %XX in upper-case
// hex, so a space is %20 and * is %2A (url.QueryEscape writes + and keeps *).
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// canonicalQuery is the sorted, percent-encoded query both signatures sign.
// A key with an empty value is written bare (no "="), as the official V3
// SDK does; the client never sends one. For V1, which has no such rule,
// every key carries "=" (bareEmpty false).
func canonicalQuery(q url.Values, bareEmpty bool) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(percentEncode(k))
			if v == "" && bareEmpty {
				continue
			}
			b.WriteByte('=')
			b.WriteString(percentEncode(v))
		}
	}
	return b.String()
}

// --- V1 (RPC, HMAC-SHA1) ---------------------------------------------------

// StringToSignV1 is V1's string to sign over every parameter but Signature:
// method & pe("/") & pe(canonical query), the canonical query thus encoded
// a second time.
func StringToSignV1(method string, params url.Values) string {
	q := make(url.Values, len(params))
	for k, v := range params {
		if k != "Signature" {
			q[k] = v
		}
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(q, false))
}

// SignV1 is the V1 Signature parameter, unescaped: Base64 of HMAC-SHA1 keyed
// with secret + "&".
func SignV1(method string, params url.Values, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(StringToSignV1(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// --- V3 (ACS3-HMAC-SHA256) -------------------------------------------------

// signedHeader reports whether a client signs a header: host,
// content-type and every x-acs-* header, as the official SDK chooses them.
func signedHeader(lower string) bool {
	return lower == "host" || lower == "content-type" || strings.HasPrefix(lower, "x-acs-")
}

// SignedHeaders picks the headers a client signs from h, with host.
func SignedHeaders(host string, h http.Header) [][2]string {
	out := [][2]string{{"host", host}}
	for n, vs := range h {
		l := strings.ToLower(n)
		if l == "host" || !signedHeader(l) {
			continue
		}
		for _, v := range vs {
			out = append(out, [2]string{l, v})
		}
	}
	return out
}

// V3Request is what the V3 signature covers of one call.
type V3Request struct {
	Method string
	// Path is the canonical URI, "/" for an RPC call such as SendSms; it is
	// signed as given (the SDK's own vector signs an empty one as empty).
	Path  string
	Query url.Values
	// Headers are the headers to sign, any case; values of names that
	// differ only in case are joined with "," in the order given, as the
	// SDK merges them. Every one given is signed (SignedHeaders picks
	// those a client signs).
	Headers [][2]string
	// PayloadHash is the lower-case hex SHA-256 of the body.
	PayloadHash string
}

// canonicalHeaders returns the canonical header block and the signed
// header list.
func (r V3Request) canonicalHeaders() (block, signed string) {
	vals := map[string][]string{}
	var names []string
	for _, h := range r.Headers {
		n := strings.ToLower(strings.TrimSpace(h[0]))
		if _, seen := vals[n]; !seen {
			names = append(names, n)
		}
		vals[n] = append(vals[n], strings.TrimSpace(h[1]))
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.Join(vals[n], ","))
		b.WriteByte('\n')
	}
	return b.String(), strings.Join(names, ";")
}

// CanonicalRequest is V3's canonical request and its signed header list.
func (r V3Request) CanonicalRequest() (canonical, signedHeaders string) {
	block, signed := r.canonicalHeaders()
	return strings.Join([]string{r.Method, r.Path, canonicalQuery(r.Query, true), block, signed, r.PayloadHash}, "\n"), signed
}

// StringToSign is "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical request)).
func (r V3Request) StringToSign() (stringToSign, signedHeaders string) {
	cr, signed := r.CanonicalRequest()
	sum := sha256.Sum256([]byte(cr))
	return AlgorithmV3 + "\n" + hex.EncodeToString(sum[:]), signed
}

// Sign returns the lower-case hex HMAC-SHA256 signature and the signed
// header list.
func (r V3Request) Sign(secret string) (signature, signedHeaders string) {
	sts, signed := r.StringToSign()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(sts))
	return hex.EncodeToString(mac.Sum(nil)), signed
}

// Authorization is the V3 Authorization header value.
func (r V3Request) Authorization(accessKeyID, secret string) string {
	sig, signed := r.Sign(secret)
	return AlgorithmV3 + " Credential=" + accessKeyID + ",SignedHeaders=" + signed + ",Signature=" + sig
}

// v3Auth is a parsed V3 Authorization header.
type v3Auth struct {
	credential string
	signed     []string
	signature  string
}

// parseV3Auth reads "ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…".
func parseV3Auth(h string) (v3Auth, bool) {
	rest, ok := strings.CutPrefix(h, AlgorithmV3+" ")
	if !ok {
		return v3Auth{}, false
	}
	var a v3Auth
	var have [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return v3Auth{}, false
		}
		switch k {
		case "Credential":
			a.credential, have[0] = v, true
		case "SignedHeaders":
			if v != "" {
				a.signed = strings.Split(v, ";")
			}
			have[1] = true
		case "Signature":
			a.signature, have[2] = v, true
		}
	}
	return a, have[0] && have[1] && have[2] && a.credential != "" && a.signature != ""
}

// headerPairs lists the request's headers named in signed, as the server
// reads them for the canonical request; host comes from the request line.
func headerPairs(r *http.Request, signed []string) [][2]string {
	var out [][2]string
	for _, n := range signed {
		if n == "host" {
			out = append(out, [2]string{"host", r.Host})
			continue
		}
		for _, v := range r.Header.Values(n) {
			out = append(out, [2]string{n, v})
		}
	}
	return out
}

// sha256hex is the lower-case hex SHA-256 of b, as x-acs-content-sha256
// carries it.
func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
