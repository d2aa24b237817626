package jdy

import (
	"net/url"
	"testing"
)

// The signature vectors J-1, J-2, J-3: J-1 and J-2 are Kingdee's own published
// examples, J-3 a POST without a query computed with python3.
func TestSignatureVectors(t *testing.T) {
	t.Run("J-1 app_signature", func(t *testing.T) {
		const want = "ZDljMTI3NGIyNTE1MTRkYzlkNjc1MDNhYjUzMzgzNWMyY2M4YTdjMzdmNmM3YTVlNDkxMTkzNjdiOTFjNzUyZQ=="
		if got := AppSignature("abc", "abc123"); got != want {
			t.Fatalf("AppSignature(abc, abc123) = %s, want %s", got, want)
		}
	})
	cases := []struct {
		name, secret, method, path string
		query                      url.Values
		nonce, ts                  string
		plain, want                string
	}{
		{
			name: "J-2 token call", secret: "f2adcfef73369bfc4e1384677d38a0ff",
			method: "GET", path: "/jdyconnector/app_management/kingdee_auth_token",
			query: url.Values{
				"app_key":       {"bVZgAZOv1"},
				"app_signature": {"MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA=="},
			},
			nonce: "4427456950", ts: "1670305063559",
			plain: "GET\n%2Fjdyconnector%2Fapp_management%2Fkingdee_auth_token\n" +
				"app_key=bVZgAZOv1&app_signature=MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA%253D%253D\n" +
				"x-api-nonce:4427456950\nx-api-timestamp:1670305063559\n",
			want: "OTFiZTliNDFiMjNkYTI3YzVhNzg4MDI4ZGU3MWY1ZTA5ZTk1NjVlNGM1YTI1ZjIxY2Y5YTA3ZGY2OGI1MGQ1MQ==",
		},
		{
			name: "J-3 POST without query", secret: "hub-client-secret",
			method: "post", path: "/jdy/sal/sal_order_save",
			nonce: "1234567890", ts: "1700000000000",
			plain: "POST\n%2Fjdy%2Fsal%2Fsal_order_save\n\nx-api-nonce:1234567890\nx-api-timestamp:1700000000000\n",
			want:  "MmJjOTY1NjJjZWYyOGQzZTNkY2MyYTYwMGU1YjM3ODFmZjdlNTE3Y2M4ZGFiZjJiNDQ2ZTIyMGRjNjZhZDAwOQ==",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plain := StringToSign(c.method, c.path, c.query, c.nonce, c.ts)
			if plain != c.plain {
				t.Fatalf("string to sign\n got %q\nwant %q", plain, c.plain)
			}
			if got := Signature(c.secret, plain); got != c.want {
				t.Fatalf("signature = %s, want %s", got, c.want)
			}
			// Without the final newline the gateway refuses the call.
			if Signature(c.secret, plain[:len(plain)-1]) == c.want {
				t.Fatal("the signature does not depend on the trailing newline")
			}
		})
	}
}

func TestEscapeIsPythonQuoteSafeEmpty(t *testing.T) {
	cases := []struct{ in, want string }{
		{"abc-_.~XYZ019", "abc-_.~XYZ019"},
		{"a b", "a%20b"},
		{"a+b=c/d", "a%2Bb%3Dc%2Fd"},
		{"店", "%E5%BA%97"},
		{"==", "%3D%3D"},
		{"", ""},
	}
	for _, c := range cases {
		if got := escape(c.in); got != c.want {
			t.Errorf("escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := signedQuery(url.Values{"b": {"=="}, "a": {"x y"}}); got != "a=x%2520y&b=%253D%253D" {
		t.Errorf("signedQuery = %q", got)
	}
	if got := EncodeQuery(url.Values{"b": {"=="}, "a": {"x y"}}); got != "a=x%20y&b=%3D%3D" {
		t.Errorf("EncodeQuery = %q", got)
	}
}
