package dingtalk

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"orderhub/internal/connector"
)

var benchMsg = connector.Message{
	Title:     "新订单 D20261126005009000001",
	Markdown:  "### 新订单 D20261126005009000001\n\n- 店铺：旗舰店\n- 金额：**¥5,999.00**\n- 状态：已付款\n- 买家：138****1234\n\n| 商品 | 数量 | 金额 |\n|---|---|---|\n| 保温杯 | 2 | ¥199.00 |\n\n[查看订单](http://127.0.0.1:8080/orders/shop/D20261126005009000001)",
	Link:      "http://127.0.0.1:8080/orders/shop/D20261126005009000001",
	AtMobiles: []string{"13800001234"},
}

// BenchmarkBuild is the sender's own work per message: dialect, keyword,
// mentions, encoding.
func BenchmarkBuild(b *testing.B) {
	c, _ := New(Options{Webhook: "https://oapi.dingtalk.com/robot/send?access_token=t", Secret: testSecret, Keyword: "订单"})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m := benchMsg
		m.Key = strconv.Itoa(i)
		if _, err := c.build(m, MaxBytes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSimServe is the simulator's work per accepted message, without
// the network: to compare with BenchmarkBareServe, a handler that only
// reads the body and answers ok.
func BenchmarkSimServe(b *testing.B) {
	sim := NewSim(SimConfig{NoRateLimit: true, DropBodies: true})
	sim.AddRobot(testToken, testSecret, "订单")
	c, _ := New(Options{Webhook: WebhookURL("http://127.0.0.1", testToken), Secret: testSecret, Keyword: "订单"})
	m := benchMsg
	m.Key = "k"
	body, _ := c.build(m, MaxBytes)
	u := c.url(sim.cfg.Now())
	serve(b, sim, u, body.body)
	if sim.Len() != 1 {
		b.Fatalf("the simulator took %d messages (msgUuid repeats count once)", sim.Len())
	}
}

func BenchmarkBareServe(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		writeAnswer(w, 0, "ok")
	})
	c, _ := New(Options{Webhook: WebhookURL("http://127.0.0.1", testToken), Secret: testSecret, Keyword: "订单"})
	body, _ := c.build(benchMsg, MaxBytes)
	serve(b, bare, c.url(c.now()), body.body)
}

func serve(b *testing.B, h http.Handler, u string, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, u, bytesReader(body))
			req.Header.Set("Content-Type", "application/json;charset=utf-8")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 || w.Body.String() != `{"errcode":0,"errmsg":"ok"}` {
				b.Fatalf("answer %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkSendLoopback is a whole send over loopback to the simulator, to
// compare with BenchmarkSendBare (the same client to a bare handler).
func BenchmarkSendLoopback(b *testing.B) {
	sim := NewSim(SimConfig{NoRateLimit: true, CountOnly: true})
	sim.AddRobot(testToken, testSecret, "订单")
	sendBench(b, sim)
}

func BenchmarkSendBare(b *testing.B) {
	sendBench(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		writeAnswer(w, 0, "ok")
	}))
}

func sendBench(b *testing.B, h http.Handler) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c, err := New(Options{Webhook: WebhookURL(srv.URL, testToken), Secret: testSecret, Keyword: "订单", HTTP: &http.Client{Transport: tr}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			m := benchMsg
			m.Key = strconv.Itoa(i) + "/" + b.Name()
			if _, err := c.Send(context.Background(), m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func bytesReader(b []byte) io.Reader { return &byteReader{b: b} }
