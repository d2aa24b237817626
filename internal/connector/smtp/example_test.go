package smtp_test

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/smtp"
)

// A big-order message to one person, as the mail Send would hand the
// server: a subject and sender in Chinese, a Message-ID that is the same
// on every attempt (sha256 of the message's key and the address), the
// one-click unsubscribe headers, and the plain-text alternative beside the
// HTML one.
func Example() {
	mailer, err := smtp.New(smtp.Options{
		System:         "mail",
		Host:           "smtp.exmail.qq.com",
		Port:           465,
		Username:       "orders@example.com",
		Password:       "授权码",
		From:           "订单中心 <orders@example.com>",
		TLS:            smtp.TLSImplicit,
		UnsubscribeURL: "https://hub.example.com/v1/unsubscribe?person={person}",
		Now:            func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, _, err := mailer.Render(connector.Message{
		Title:    "大额订单 ¥5,999.00 D20261126005009000001",
		Markdown: "### 大额订单 D20261126005009000001\n\n**¥5,999.00**（已付款）\n\n- 买家：138****1234",
		Text:     "大额订单 D20261126005009000001\n\n¥5,999.00（已付款）\n\n- 买家：138****1234",
		Link:     "https://hub.example.com/v1/orders/shop/D20261126005009000001",
		Color:    "#E8590C",
		Key:      "big_order/shop/D20261126005009000001/created",
		To:       []connector.Recipient{{Person: "zhang", Name: "张三", Email: "zhang@example.com"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := mail.ReadMessage(strings.NewReader(string(raw)))
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	from, _ := msg.Header.AddressList("From")
	to, _ := msg.Header.AddressList("To")
	fmt.Println("Subject:", subject)
	fmt.Println("From:", from[0].Name, from[0].Address)
	fmt.Println("To:", to[0].Name, to[0].Address)
	fmt.Println("Message-ID:", msg.Header.Get("Message-ID"))
	fmt.Println("List-Unsubscribe:", msg.Header.Get("List-Unsubscribe"))
	fmt.Println("List-Unsubscribe-Post:", msg.Header.Get("List-Unsubscribe-Post"))
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	fmt.Println("Content-Type:", mt)
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p)
		body := strings.ReplaceAll(string(b), "\r\n", "\n") // mail lines end in CRLF
		if ct == "text/plain" {
			fmt.Printf("--- %s\n%s", ct, body)
		} else {
			// The page around the body; its first heading:
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(line, "<h3") {
					fmt.Printf("--- %s\n%s\n", ct, line)
				}
			}
		}
	}
	// Output:
	// Subject: 大额订单 ¥5,999.00 D20261126005009000001
	// From: 订单中心 orders@example.com
	// To: 张三 zhang@example.com
	// Message-ID: <2ac0f003aa08b174e53756b6dd0fbced@example.com>
	// List-Unsubscribe: <https://hub.example.com/v1/unsubscribe?person=zhang>
	// List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// Content-Type: multipart/alternative
	// --- text/plain
	// 大额订单 D20261126005009000001
	//
	// ¥5,999.00（已付款）
	//
	// - 买家：138****1234
	//
	// https://hub.example.com/v1/orders/shop/D20261126005009000001
	//
	// --
	// 不想再收到这类邮件？退订：https://hub.example.com/v1/unsubscribe?person=zhang
	// --- text/html
	// <h3 style="margin:0 0 12px;font-size:20px;line-height:1.4;color:#1f2329">大额订单 D20261126005009000001</h3>
}
