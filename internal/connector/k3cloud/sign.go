package k3cloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// secretSeed is the fixed key the Kingdee SDKs XOR the secret part of an
// AppID with to get the key of X-Api-Signature. The SDKs ship it obfuscated
// (ROT13 of "0054s397…"); this is the plain text, pinned by vector K-1.
const secretSeed = "0054f397c6234378b09ca7d3e5debce7"

// SplitAppID splits a third-party authorisation AppID
// ("<clientId>_<32-char secret part>") into its client id and the key that
// signs X-Api-Signature. The SDKs fall back to other keys when the part is
// not 32 characters long; those AppIDs do not come from a current server,
// so they are refused here with the reason.
func SplitAppID(appID string) (clientID, key string, err error) {
	clientID, part, ok := strings.Cut(appID, "_")
	if !ok || clientID == "" {
		return "", "", fmt.Errorf("app_id %q has no \"_\": a third-party AppID looks like <clientId>_<32 characters>", appID)
	}
	if len(part) != 32 {
		return "", "", fmt.Errorf("app_id: the part after \"_\" is %d characters long, want 32: copy the whole AppID from 第三方系统登录授权", len(part))
	}
	raw, err := base64.StdEncoding.DecodeString(part)
	if err != nil {
		return "", "", fmt.Errorf("app_id: the part after \"_\" is not base64: %w", err)
	}
	for i := range raw {
		raw[i] ^= secretSeed[i%len(secretSeed)]
	}
	return clientID, base64.StdEncoding.EncodeToString(raw), nil
}

// hexBase64HMAC is the digest both Kingdee header signatures use:
// base64 of the lowercase hex of HMAC-SHA256.
func hexBase64HMAC(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	var sum [sha256.Size]byte
	h := hex.EncodeToString(m.Sum(sum[:0]))
	return base64.StdEncoding.EncodeToString([]byte(h))
}

// APIStringToSign is the text X-Api-Signature covers for a POST to path
// (the URL's path and query): the method, the escaped path, an empty query
// line, then nonce and timestamp, each line ending in "\n".
func APIStringToSign(path, nonce, timestamp string) string {
	return "POST\n" + escapeAll(path) + "\n\nx-api-nonce:" + nonce + "\nx-api-timestamp:" + timestamp + "\n"
}

// APISignature is X-Api-Signature for a POST to path, keyed by the key
// SplitAppID derives.
func APISignature(key, path, nonce, timestamp string) string {
	return hexBase64HMAC(key, APIStringToSign(path, nonce, timestamp))
}

// AppData is the plain text of X-Kd-Appdata: "acctId,userName,lcid,orgNum".
// orgNum is "0" when no organisation is meant.
func AppData(acctID, username string, lcid int, org string) string {
	if org == "" {
		org = "0"
	}
	return acctID + "," + username + "," + strconv.Itoa(lcid) + "," + org
}

// KdSignature is X-Kd-Signature: the AppID and the plain app data, signed
// with the AppSecret.
func KdSignature(appID, appSecret, appData string) string {
	return hexBase64HMAC(appSecret, appID+appData)
}

// escapeAll percent-encodes everything but letters, digits and "-_.~",
// with upper-case escapes: Python's quote(s, safe=""), which is what the
// SDKs sign. "/" becomes "%2F".
func escapeAll(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
