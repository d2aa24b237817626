package feishu

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

func serve(t *testing.T, sim *Sim) string {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return srv.URL
}

const (
	simToken  = "0f6e1b2c-3d4e-4f50-8a9b-0c1d2e3f4a5b"
	simSecret = "y5UzAr9tGtS5tOneSecretx"
)

func testSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	if cfg.System == "" {
		cfg.System = "ops_feishu"
	}
	s, err := New(cfg)
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

func with(m connector.Message, f func(*connector.Message)) connector.Message {
	f(&m)
	return m
}
