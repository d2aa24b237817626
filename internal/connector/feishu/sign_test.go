package feishu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"
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

// At the doc's sample time the simulator takes F-1 and refuses F-4 with
// 19021, as Feishu does.
func TestSimTakesF1AndRefusesF4(t *testing.T) {
	sim := NewSim(SimConfig{Now: func() time.Time { return time.Unix(1599360473, 0) }})
	sim.AddRobot(Robot{Token: "t", Secret: "demo"})
	base := serve(t, sim)
	for _, c := range []struct {
		id, sign string
		want     int
	}{
		{"F-1", "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=", CodeOK},
		{"F-4", "DkEDUyVoOOJ539qBvUgMyzkzIdRWlf4e/V3Rq+ONJnQ=", CodeSignFailed},
		{"F-1 URL-encoded", "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8%3D", CodeSignFailed},
	} {
		_, a := postRaw(t, HookURL(base, "t"), "application/json",
			`{"timestamp":"1599360473","sign":"`+c.sign+`","msg_type":"text","content":{"text":"订单"}}`)
		if *a.Code != c.want {
			t.Errorf("%s: code %d %q, want %d", c.id, *a.Code, a.Msg, c.want)
		}
	}
}
