package wecom

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// serve starts sim on loopback and returns its base URL.
func serve(t *testing.T, sim *Sim) string {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return srv.URL
}

func testSender(t *testing.T, base, key, msgType string, now func() time.Time) *Sender {
	t.Helper()
	s, err := New(Config{System: "ops_wecom", Webhook: WebhookURL(base, key), MsgType: msgType, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var orderMsg = connector.Message{
	Title:    "新订单 D20261126005009000001",
	Markdown: "### 新订单 D20261126005009000001\n\n- 金额：**¥5,999.00**\n- 买家：138****1234\n\n[查看订单](http://127.0.0.1:8080/orders/shop/D20261126005009000001)",
	Text:     "新订单 D20261126005009000001 金额 ¥5,999.00",
	Link:     "http://127.0.0.1:8080/orders/shop/D20261126005009000001",
	Key:      "new_order/shop/D20261126005009000001/created",
}
