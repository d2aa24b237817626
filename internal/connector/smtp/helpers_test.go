package smtp

import (
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/testutil/mailpit"
)

const (
	testFrom   = "订单中心 <orders@example.com>"
	testUser   = "orders@example.com"
	testPass   = "smtp-auth-code-0001"
	testUnsub  = "{base}/v1/unsubscribe?person={person}"
	testOrder  = "D20261126005009000001"
	testLink   = "http://127.0.0.1:8080/v1/orders/shop/" + testOrder
	testUnsubZ = "http://127.0.0.1:8080/v1/unsubscribe?person=zhang"
)

var testNow = time.Date(2026, 11, 26, 10, 0, 15, 0, time.FixedZone("CST", 8*3600))

// sample is a big-order message as the rules render it, to one person.
func sample() connector.Message {
	return connector.Message{
		Title: "大额订单 ¥5,999.00 " + testOrder,
		Markdown: "### 大额订单 " + testOrder + "\n\n**¥5,999.00**（已付款）\n\n- 店铺：旗舰店\n- 买家：138****1234\n\n" +
			"| 商品 | 数量 | 金额 |\n|---|---:|---:|\n| 保温杯 | 2 | ¥199.00 |\n\n[查看订单](" + testLink + ")\n\n— 订单中心",
		Text:     "大额订单 " + testOrder + "\n\n¥5,999.00（已付款）\n\n- 店铺：旗舰店\n- 买家：138****1234\n\n查看订单: " + testLink + "\n\n— 订单中心",
		Link:     testLink,
		Color:    "#E8590C",
		Key:      "big_order/shop/" + testOrder + "/created",
		Priority: "high",
		To:       []connector.Recipient{{Person: "zhang", Name: "张三", Email: "zhang@example.com"}},
	}
}

// plainServer is a mailpit without TLS or login, reached with tls: none.
func plainServer(t *testing.T) *mailpit.Server {
	t.Helper()
	return mailpit.Start(t, mailpit.Options{})
}

// authServer is a mailpit that takes mail only from testUser logged in
// over STARTTLS (as a provider's port 587 does), or over TLS from the
// first byte with tlsMode implicit (port 465).
func authServer(t *testing.T, tlsMode string, o mailpit.Options) *mailpit.Server {
	t.Helper()
	o.TLS, o.RequireTLS = tlsMode, true
	o.Users = map[string]string{testUser: testPass}
	return mailpit.Start(t, o)
}

// clientFor builds a client of srv the way the tls setting asks, trusting
// srv's certificate; mod adjusts the options.
func clientFor(t *testing.T, srv *mailpit.Server, tlsMode string, mod ...func(*Options)) *Client {
	t.Helper()
	o := Options{
		System: "mail", Host: srv.Host, Port: srv.Port, From: testFrom, TLS: tlsMode,
		UnsubscribeURL: testUnsub, Now: func() time.Time { return testNow },
	}
	if tlsMode != TLSNone {
		o.Username, o.Password = testUser, testPass
	}
	if srv.RootCAs != nil {
		o.TLSConfig = &tls.Config{RootCAs: srv.RootCAs}
	}
	for _, f := range mod {
		f(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// deadPort is a loopback port nobody listens on.
func deadPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// parts reads a raw mail's top Content-Type and its parts' types and
// decoded bodies.
type mimeMail struct {
	Header    mail.Header
	MediaType string
	Parts     map[string]string // content type → decoded body
}

func parseMIME(t *testing.T, raw []byte) mimeMail {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("the mail does not parse: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	out := mimeMail{Header: msg.Header, MediaType: mt, Parts: map[string]string{}}
	if !strings.HasPrefix(mt, "multipart/") {
		return out
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("MIME part: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out.Parts[ct] = string(b)
	}
	return out
}

// only returns the one message srv received.
func only(t *testing.T, srv *mailpit.Server) mailpit.Message {
	t.Helper()
	got := srv.Messages(t)
	if len(got) != 1 {
		t.Fatalf("mailpit received %d messages, want 1", len(got))
	}
	return srv.Message(t, got[0].ID)
}

func wantClass(t *testing.T, err error, want connector.Class) *connector.CallError {
	t.Helper()
	ce, ok := connector.AsCallError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *connector.CallError", err, err)
	}
	if ce.Class != want {
		t.Fatalf("class %q, want %q: %v (hint %s)", ce.Class, want, err, ce.Hint)
	}
	if ce.Hint == "" {
		t.Errorf("%v: no hint", err)
	}
	return ce
}
