package dingtalk

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The vectors of im.md section 6 (DingTalk robot), computed independently of
// this code with openssl and Python.
func TestSignVectors(t *testing.T) {
	cases := []struct {
		id, secret string
		ts         int64
		b64, query string
	}{
		{"D-1", "this is secret", 1700000000000, "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=", "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D"},
		{"D-2", "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1700000000000, "bTgY2yDbep+wesS7jKiNj+srsHoADES4+C4f8LCHFtU=", "bTgY2yDbep%2BwesS7jKiNj%2BsrsHoADES4%2BC4f8LCHFtU%3D"},
		{"D-3", "SECtest", 1599360473000, "9uMBwWNha8Pcr4QQCL9YQitwL0E0g2JIxycWz23gAkE=", "9uMBwWNha8Pcr4QQCL9YQitwL0E0g2JIxycWz23gAkE%3D"},
		{"D-4", "SECtest", 1700000000001, "r4CWp/Dz+Ng0sbTjH1vB0Fr+uQ2fn831mssaN6/C05I=", "r4CWp%2FDz%2BNg0sbTjH1vB0Fr%2BuQ2fn831mssaN6%2FC05I%3D"},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			got := Sign(c.secret, c.ts)
			if got != c.b64 {
				t.Fatalf("Sign = %s, want %s", got, c.b64)
			}
			// What goes on the wire: the query the client builds.
			q := signedQuery(url.Values{"access_token": {"T"}}, c.secret, c.ts)
			if want := "access_token=T&sign=" + c.query + "&timestamp=" + strconv.FormatInt(c.ts, 10); q != want {
				t.Fatalf("query = %s, want %s", q, want)
			}
		})
	}
}

// The negative vectors: a signature over seconds, and a double-encoded one,
// must not be what the client computes.
func TestSignNegativeVectors(t *testing.T) {
	const secret = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got := Sign(secret, 1700000000); got != "iEkiU6+JqL9W0KhRcIEOjtBmIGV+LOK6Fbl81zDv+yc=" {
		t.Fatalf("seconds signature = %s; the vector pins the HMAC itself", got)
	}
	q := signedQuery(url.Values{"access_token": {"T"}}, secret, 1700000000000)
	if want := "bTgY2yDbep%252BwesS7jKiNj%252BsrsHoADES4%252BC4f8LCHFtU%253D"; strings.Contains(q, want) {
		t.Fatalf("query %s is double-encoded", q)
	}
}
