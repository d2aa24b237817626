package feishu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// Sign is the 签名校验 signature of a message sent at timestamp (Unix
// seconds): Base64 of HMAC-SHA256 keyed with timestamp+"\n"+secret over
// an empty message. It travels in the JSON body as is, never URL-encoded.
func Sign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
