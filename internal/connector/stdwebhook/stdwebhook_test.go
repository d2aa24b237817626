package stdwebhook

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The spec's published vector (the libraries' TestWebhookSign), checked
// outside Go as well:
//
//	key=$(printf %s MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 100)
//	printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
//	  openssl dgst -sha256 -mac HMAC -macopt hexkey:$key -binary | base64
//	g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vecKey(t *testing.T) []byte {
	t.Helper()
	k, err := ParseSecret(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignSpecVector(t *testing.T) {
	if got := Sign(vecKey(t), vecID, vecTS, []byte(vecBody)); got != vecSig {
		t.Fatalf("Sign = %s, want the spec's %s", got, vecSig)
	}
}

// The spec's Go library agrees with this package both ways: it verifies
// what Headers signs, and Verify accepts what it signs, over bodies with
// the bytes that trip hand-written schemes (a full stop, a newline, UTF-8).
func TestSpecLibraryAgrees(t *testing.T) {
	key := vecKey(t)
	lib, err := standardwebhooks.NewWebhook(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now() // the library checks its tolerance against the real clock
	for _, body := range []string{vecBody, `{"type":"order.paid","data":{"order_no":"D1.2"}}`, "{\"remark\":\"请尽快发货\\n谢谢\"}\n", ""} {
		h := http.Header{}
		Headers(h, key, "msg_0123abcd", now, []byte(body))
		if err := lib.Verify([]byte(body), h); err != nil {
			t.Errorf("the spec's library refuses orderhub's signature of %q: %v", body, err)
		}
		sig, err := lib.Sign("msg_0123abcd", now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if sig != h.Get(HeaderSignature) {
			t.Errorf("the library signs %s, orderhub %s", sig, h.Get(HeaderSignature))
		}
		h2 := http.Header{}
		h2.Set(HeaderID, "msg_from_library")
		h2.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		sig2, _ := lib.Sign("msg_from_library", now, []byte(body))
		h2.Set(HeaderSignature, sig2)
		if p := Verify([][]byte{key}, h2, []byte(body), now, 5*time.Minute); p != nil {
			t.Errorf("orderhub refuses the library's signature of %q: %v", body, p)
		}
	}
	// A changed body fails in the library too: the agreement is not that
	// both accept anything.
	h := http.Header{}
	Headers(h, key, "msg_0123abcd", now, []byte(vecBody))
	if err := lib.Verify([]byte(vecBody+" "), h); err == nil {
		t.Fatal("the library accepted a body that was not signed")
	}
}

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) }
	cases := []struct {
		name, secret string
		wantLen      int
		wantErr      string
	}{
		{"spec vector", vecSecret, 24, ""},
		{"32 bytes padded", "whsec_" + b64(32), 32, ""},
		{"no prefix", b64(32), 0, "does not start with whsec_"},
		{"other scheme's prefix", "SEC" + b64(32), 0, "does not start with whsec_"},
		{"hex after the prefix", "whsec_" + strings.Repeat("ab", 32) + "z", 0, "not standard base64"},
		{"unpadded", "whsec_" + strings.TrimRight(b64(32), "="), 0, "not standard base64"},
		{"url-safe", "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe})), 0, "not standard base64"},
		{"too short", "whsec_" + b64(16), 0, "decodes to 16 bytes"},
		{"empty key", "whsec_", 0, "decodes to 0 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseSecret(c.secret)
			if c.wantErr == "" {
				if err != nil || len(k) != c.wantLen {
					t.Fatalf("key of %d bytes, %v; want %d bytes", len(k), err, c.wantLen)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err %v, want one saying %q", err, c.wantErr)
			}
			if rest := strings.TrimPrefix(c.secret, "whsec_"); len(rest) > 8 && strings.Contains(err.Error(), rest) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}

// Every refusal, with the code a sender's program can rely on.
func TestVerifyRefusals(t *testing.T) {
	key := vecKey(t)
	oldKey := bytes.Repeat([]byte{1}, 32)
	now := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	good := func() http.Header {
		h := http.Header{}
		h.Set(HeaderID, vecID)
		h.Set(HeaderTimestamp, strconv.Itoa(vecTS))
		h.Set(HeaderSignature, vecSig)
		return h
	}
	with := func(k, v string) http.Header { h := good(); h.Set(k, v); return h }
	without := func(k string) http.Header { h := good(); h.Del(k); return h }
	cases := []struct {
		name   string
		keys   [][]byte
		h      http.Header
		body   []byte
		now    time.Time
		code   string // "" for accepted
		saying string
	}{
		{"the spec vector", [][]byte{key}, good(), body, now, "", ""},
		{"4m59s late", [][]byte{key}, good(), body, now.Add(4*time.Minute + 59*time.Second), "", ""},
		{"4m59s early", [][]byte{key}, good(), body, now.Add(-4*time.Minute - 59*time.Second), "", ""},
		{"signed by the previous key", [][]byte{oldKey, key}, good(), body, now, "", ""},
		{"rotation: new and old signature", [][]byte{key}, with(HeaderSignature, Sign(oldKey, vecID, vecTS, body)+" "+vecSig), body, now, "", ""},
		{"asymmetric signature first", [][]byte{key}, with(HeaderSignature, "v1a,aGVsbG8= "+vecSig), body, now, "", ""},
		{"extra spaces", [][]byte{key}, with(HeaderSignature, "  "+vecSig+"  "), body, now, "", ""},

		{"no webhook-id", [][]byte{key}, without(HeaderID), body, now, "missing_signature", "no webhook-id header"},
		{"no timestamp", [][]byte{key}, without(HeaderTimestamp), body, now, "missing_signature", "webhook-timestamp"},
		{"no signature", [][]byte{key}, without(HeaderSignature), body, now, "missing_signature", "webhook-signature"},
		{"orderhub's own scheme", [][]byte{key}, http.Header{"X-Orderhub-Timestamp": {"1"}, "X-Orderhub-Signature": {"v1=ab"}}, body, now, "missing_signature", "(X-Orderhub-Signature), but this source has scheme: standard"},
		{"id with a full stop", [][]byte{key}, with(HeaderID, "msg.1"), body, now, "bad_webhook_id", "full stops"},
		{"id too long", [][]byte{key}, with(HeaderID, strings.Repeat("m", MaxIDLen+1)), body, now, "bad_webhook_id", ""},
		{"timestamp in milliseconds-looking text", [][]byte{key}, with(HeaderTimestamp, "2021-02-25T15:02:10Z"), body, now, "bad_timestamp", "not Unix seconds"},
		{"timestamp 5m1s old", [][]byte{key}, good(), body, now.Add(5*time.Minute + time.Second), "stale_timestamp", "5m1s away"},
		{"timestamp 5m1s ahead", [][]byte{key}, good(), body, now.Add(-5*time.Minute - time.Second), "stale_timestamp", "5m1s away"},
		{"timestamp in milliseconds", [][]byte{key}, with(HeaderTimestamp, "1614265330000"), body, now, "stale_timestamp", ""},
		{"body changed", [][]byte{key}, good(), append(append([]byte{}, body...), ' '), now, "bad_signature", "no signature matches"},
		{"id changed", [][]byte{key}, with(HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJel"), body, now, "bad_signature", "no signature matches"},
		{"wrong key", [][]byte{oldKey}, good(), body, now, "bad_signature", "no signature matches"},
		{"signature not base64", [][]byte{key}, with(HeaderSignature, "v1,@@@"), body, now, "bad_signature", "no signature matches"},
		{"hex signature the orderhub way", [][]byte{key}, with(HeaderSignature, "v1=0123abcd"), body, now, "bad_signature", "orderhub's own scheme"},
		{"only an asymmetric signature", [][]byte{key}, with(HeaderSignature, "v1a,aGVsbG8="), body, now, "bad_signature", "has no v1 signature"},
		{"version in capitals", [][]byte{key}, with(HeaderSignature, strings.Replace(vecSig, "v1", "V1", 1)), body, now, "bad_signature", "has no v1 signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Verify(c.keys, c.h, c.body, c.now, 5*time.Minute)
			if c.code == "" {
				if p != nil {
					t.Fatalf("refused: %v", p)
				}
				return
			}
			if p == nil {
				t.Fatalf("accepted; want %s", c.code)
			}
			if p.Status != http.StatusUnauthorized || p.Code != c.code || !strings.Contains(p.Error(), c.saying) || p.Detail == "" {
				t.Fatalf("got %v; want 401 %s saying %q, with a detail", p, c.code, c.saying)
			}
		})
	}
}
