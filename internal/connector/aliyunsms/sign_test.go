package aliyunsms

import (
	"net/url"
	"strings"
	"testing"
)

// a1 is the documented SendSms example of im.md section 6.
func a1() url.Values {
	return url.Values{
		"AccessKeyId":      {"testId"},
		"Action":           {"SendSms"},
		"Format":           {"XML"},
		"OutId":            {"123"},
		"PhoneNumbers":     {"15300000001"},
		"RegionId":         {"cn-hangzhou"},
		"SignName":         {"阿里云短信测试专用"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"45e25e9b-0a6f-4070-8c85-2956eda1b466"},
		"SignatureVersion": {"1.0"},
		"TemplateCode":     {"SMS_71390007"},
		"TemplateParam":    {`{"customer":"test"}`},
		"Timestamp":        {"2017-07-12T02:42:19Z"},
		"Version":          {"2017-05-25"},
	}
}

// The V1 vectors of im.md section 6, computed independently of this code
// (Python and a separate Go program) and matching the vendor's example.
func TestSignV1Vectors(t *testing.T) {
	cases := []struct {
		id, method string
		params     url.Values
		secret     string
		want       string
	}{
		{"A-1 GET", "GET", a1(), "testSecret", "zJDF+Lrzhj/ThnlvIToysFRq6t4="},
		{"A-2 POST", "POST", a1(), "testSecret", "Xvhv7fPXrPkLVSnlt0jIr08o8NQ="},
		{"A-3 SDK", "GET", url.Values{"query": {"test"}, "body": {"test"}}, "secret", "XlUyV4sXjOuX5FnjUz9IF9tm5rU="},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			if got := SignV1(c.method, c.params, c.secret); got != c.want {
				t.Fatalf("SignV1 = %s, want %s", got, c.want)
			}
		})
	}
	// The string to sign encodes the canonical query a second time: the
	// sign name's UTF-8 shows as %25E9%2598%25BF….
	sts := StringToSignV1("GET", a1())
	if !strings.HasPrefix(sts, "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123") || !strings.Contains(sts, "%25E9%2598%25BF") {
		t.Fatalf("string to sign %s", sts)
	}
	// A Signature parameter among the params is not signed.
	with := a1()
	with.Set("Signature", "anything")
	if got := SignV1("GET", with, "testSecret"); got != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Fatalf("Signature was signed: %s", got)
	}
}

// The V3 vectors: A-4 is the official SDK's unit test (duplicate header
// names merge, an empty query value is a bare key), A-5 a SendSms call.
func TestSignV3Vectors(t *testing.T) {
	a4 := V3Request{
		Method:      "GET",
		Query:       url.Values{"test": {"ok"}, "empty": {""}},
		Headers:     [][2]string{{"x-acs-test", "http"}, {"x-acs-TEST", "https"}},
		PayloadHash: "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23",
	}
	a5 := V3Request{
		Method: "POST",
		Path:   "/",
		Query: url.Values{
			"PhoneNumbers":  {"13800000000"},
			"SignName":      {"阿里云短信测试"},
			"TemplateCode":  {"SMS_154950909"},
			"TemplateParam": {`{"code":"1234"}`},
		},
		Headers: [][2]string{
			{"host", "dysmsapi.aliyuncs.com"},
			{"x-acs-action", "SendSms"},
			{"x-acs-version", "2017-05-25"},
			{"x-acs-date", "2023-10-26T10:22:32Z"},
			{"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
			{"x-acs-content-sha256", EmptySHA256},
		},
		PayloadHash: EmptySHA256,
	}
	cases := []struct {
		id         string
		req        V3Request
		ak, secret string
		hashed     string // hex SHA-256 of the canonical request, when the vector gives it
		auth       string
	}{
		{"A-4 SDK", a4, "acesskey", "secret", "",
			"ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature=da772425f29289d3460d5fc961455d40c5e8c6afd0888b78a910c991e6a14846"},
		{"A-5 SendSms", a5, "YourAccessKeyId", "YourAccessKeySecret", "32653f55b28ad550b1a37aec5d9c7363440683a286da84c03112f28e6f7c44c3",
			"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=8ea074df6b09a413025b88585d4f753bc2ae681c8c8104d71c3e0e2d9b0f9aeb"},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			if c.hashed != "" {
				sts, _ := c.req.StringToSign()
				if want := AlgorithmV3 + "\n" + c.hashed; sts != want {
					cr, _ := c.req.CanonicalRequest()
					t.Fatalf("string to sign %q, want %q; canonical request:\n%s", sts, want, cr)
				}
			}
			if got := c.req.Authorization(c.ak, c.secret); got != c.auth {
				t.Fatalf("Authorization\n got %s\nwant %s", got, c.auth)
			}
		})
	}
	// A-4's canonical request shows the SDK's two rules.
	cr, _ := a4.CanonicalRequest()
	if want := "GET\n\nempty&test=ok\nx-acs-test:http,https\n\nx-acs-test\n" + a4.PayloadHash; cr != want {
		t.Fatalf("canonical request %q, want %q", cr, want)
	}
}

// Alibaba's encoding differs from url.QueryEscape on space, * and ~.
func TestPercentEncode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a b", "a%20b"},
		{"*", "%2A"},
		{"~-_.", "~-_."},
		{"+/=", "%2B%2F%3D"},
		{"阿", "%E9%98%BF"},
		{`{"code":"1234"}`, "%7B%22code%22%3A%221234%22%7D"},
	} {
		if got := percentEncode(c.in); got != c.want {
			t.Errorf("percentEncode(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseV3Auth(t *testing.T) {
	for _, c := range []struct {
		h  string
		ok bool
	}{
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=abc", true},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=,Signature=abc", true},
		{"ACS3-HMAC-SHA256 Credential=ak,Signature=abc", false},
		{"ACS3-HMAC-SM3 Credential=ak,SignedHeaders=host,Signature=abc", false},
		{"ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=abc", false},
		{"", false},
	} {
		a, ok := parseV3Auth(c.h)
		if ok != c.ok {
			t.Errorf("%q: ok %v, want %v (%+v)", c.h, ok, c.ok, a)
		}
	}
}
