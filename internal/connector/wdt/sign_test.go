package wdt

import "testing"

// The vectors of erp.md section 7: W-1 is WDT's own worked example; W-2
// and W-3 and the 奇门 vectors were computed independently of this code.
func TestSignOpenAPIVectors(t *testing.T) {
	w1 := map[string]string{"appkey": "test2-xx", "page_no": "0", "end_time": "2016-08-01 13:00:00",
		"start_time": "2016-08-01 12:00:00", "page_size": "40", "sid": "test2", "timestamp": "1470042310"}
	w2 := map[string]string{"sid": "demo", "appkey": "demo-hub", "timestamp": "1700000000",
		"start_time": "2024-11-11 10:00:00", "end_time": "2024-11-11 10:59:59", "page_no": "0", "page_size": "100", "shop_no": "店铺A"}
	w3 := map[string]string{"sid": "demo", "appkey": "demo-hub", "timestamp": "1700000000", "stockin_no": "RK2411110001", "page_no": "0", "page_size": "50"}
	withSign := func(m map[string]string) map[string]string {
		out := map[string]string{"sign": "ignored"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name   string
		params map[string]string
		secret string
		unit   SignLength
		want   string
	}{
		{"W-1", w1, "12345", SignChars, "ad4e6fe037ea6e3ba4768317be9d1309"},
		{"W-1 bytes", w1, "12345", SignBytes, "ad4e6fe037ea6e3ba4768317be9d1309"},
		{"W-1 sign is not signed", withSign(w1), "12345", SignChars, "ad4e6fe037ea6e3ba4768317be9d1309"},
		{"W-2 chars", w2, "s3cr3t", SignChars, "76c6171f616adc64ec0fcbd219d183e8"},
		{"W-2 bytes", w2, "s3cr3t", SignBytes, "611b975dc7abe30646f9d37a7eb9634b"},
		{"W-3", w3, "s3cr3t", SignChars, "67a290109681d9d6518705da6e59cbfa"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := SignOpenAPI(c.params, c.secret, c.unit); got != c.want {
				t.Fatalf("sign = %s, want %s", got, c.want)
			}
		})
	}
	const w1String = "06-appkey:0008-test2-xx;08-end_time:0019-2016-08-01 13:00:00;07-page_no:0001-0;09-page_size:0002-40;03-sid:0005-test2;10-start_time:0019-2016-08-01 12:00:00;09-timestamp:0010-147004231012345"
	if got := openAPIString(w1, "12345", SignChars); got != w1String {
		t.Fatalf("W-1 string to sign\n got %s\nwant %s", got, w1String)
	}
}

func TestSignOpenAPILongValue(t *testing.T) {
	long := make([]byte, 12345)
	for i := range long {
		long[i] = 'x'
	}
	s := openAPIString(map[string]string{"k": string(long)}, "", SignChars)
	if want := "01-k:12345-"; s[:len(want)] != want {
		t.Fatalf("a value of 12345 characters is written %q, want prefix %q", s[:12], want)
	}
}

func TestSignTOPVectors(t *testing.T) {
	q := map[string]string{"method": "wdt.trade.query", "app_key": "12345678", "target_app_key": "23456789", "sid": "demo",
		"timestamp": "2024-11-11 10:00:00", "format": "json", "v": "2.0", "start_time": "2024-11-11 09:00:00",
		"end_time": "2024-11-11 09:59:59", "page_no": "0", "page_size": "100"}
	with := func(method string, extra map[string]string) map[string]string {
		out := map[string]string{"sign_method": method}
		for k, v := range q {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name   string
		params map[string]string
		method string
		want   string
	}{
		{"Q-1 md5", with("md5", nil), SignMD5, "BF3C0590B6CB701295ABA8AFDCE7271A"},
		{"Q-1 empty values are skipped", with("md5", map[string]string{"session": "", "sign": "X"}), SignMD5, "BF3C0590B6CB701295ABA8AFDCE7271A"},
		{"Q-2 hmac-sha256", with("hmac-sha256", nil), SignHMACSHA256, "CF4B35CC4D7A2605739B8E0EE4B30C3D62AAC7ACFAA3EC505C6A07E3DC36A8F0"},
		// Computed with python3's hmac module over the Q-1 parameters with sign_method=hmac.
		{"hmac-md5", with("hmac", nil), SignHMAC, "02D2F07A510006FD8E4275FE0E4814F0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SignTOP(c.params, "qmsecret", c.method)
			if err != nil || got != c.want {
				t.Fatalf("sign = %s, %v; want %s", got, err, c.want)
			}
		})
	}
	const concat = "app_key12345678end_time2024-11-11 09:59:59formatjsonmethodwdt.trade.querypage_no0page_size100siddemosign_methodmd5start_time2024-11-11 09:00:00target_app_key23456789timestamp2024-11-11 10:00:00v2.0"
	if got := topString(with("md5", nil)); got != concat {
		t.Fatalf("Q-1 concatenation\n got %s\nwant %s", got, concat)
	}
	if _, err := SignTOP(q, "qmsecret", "sha1"); err == nil {
		t.Fatal("an unknown sign_method was accepted")
	}
}
