package feishu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// The vectors of im.md section 6 (Feishu).
func TestSignVectors(t *testing.T) {
	for _, v := range []struct {
		id, secret string
		ts         int64
		want       string
	}{
		{"F-1", "demo", 1599360473, "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="},
		{"F-2", "demo", 1700000000, "8oT2n3SMKFfEnDoiwer8BUM/SjKLwe9SqoEIHlhDTKo="},
		{"F-3", "test_secret", 1700000000, "gg67k4NhGu87ukJvWeSIgT+qsHbI+eWjbPP+KE/Nq6M="},
	} {
		if got := Sign(v.secret, v.ts); got != v.want {
			t.Errorf("%s: Sign(%q, %d) = %s, want %s", v.id, v.secret, v.ts, got, v.want)
		}
	}
}

// F-4: DingTalk's construction (the secret as key, ts\nsecret as the
// message) gives another value, which Feishu refuses.
func TestSignIsNotDingTalks(t *testing.T) {
	mac := hmac.New(sha256.New, []byte("demo"))
	mac.Write([]byte("1599360473\ndemo"))
	ding := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if ding != "DkEDUyVoOOJ539qBvUgMyzkzIdRWlf4e/V3Rq+ONJnQ=" {
		t.Fatalf("the F-4 construction gives %s; the vector is wrong or the test is", ding)
	}
	if Sign("demo", 1599360473) == ding {
		t.Fatal("Sign uses DingTalk's construction")
	}
}
