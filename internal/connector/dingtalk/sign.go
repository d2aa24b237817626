package dingtalk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// Sign is the 加签 signature of a call made at tsMS (Unix milliseconds):
// standard Base64 of HMAC-SHA256 keyed with the whole SEC… secret over
// tsMS + "\n" + secret. It is returned unescaped; the caller puts it into
// url.Values, whose Encode escapes it exactly once, as DingTalk expects
// (escaping it here as well would send %252B for +).
func Sign(secret string, tsMS int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	ts := strconv.FormatInt(tsMS, 10)
	mac.Write([]byte(ts))
	mac.Write([]byte{'\n'})
	mac.Write([]byte(secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
