package webhookout

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	_ "orderhub/internal/connector/webhook" // the receiving hub's source kind
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// Two orderhubs connect with configuration alone: the sending hub's
// webhook_out posts an order event, the receiving hub's webhook source with
// scheme: standard verifies it and reads the order; a retry is the same
// message; a secret the receiver does not share is refused and the sender
// sees a permanent failure with the receiver's reason.
func TestTwoHubs(t *testing.T) {
	clk := newClock()
	env := map[string]string{"HOOK_SECRET": testSecret, "OTHER_SECRET": otherSecret}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	receiving, err := config.Parse([]byte("systems:\n  upstream: {kind: webhook, scheme: standard, secret: \"${HOOK_SECRET}\"}\n"), "receiving.yaml", lookup)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := connector.NewPushReceiver(connector.PushEnv{System: receiving.Systems["upstream"], ReplayWindow: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var orders []order.Order
	var ids []string
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got, err := rcv.Receive(&connector.PushRequest{Header: r.Header, Body: body, Now: clk.Now()})
		if p, ok := problem.As(err); ok {
			p.Write(w)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		mu.Lock()
		orders = append(orders, got.Order)
		ids = append(ids, r.Header.Get("webhook-id"))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	defer peer.Close()
	env["PEER"] = peer.URL

	sending, err := config.Parse([]byte("systems:\n"+
		"  downstream: {kind: webhook_out, url: \"${PEER}/v1/push/upstream_orders\", secret: \"${HOOK_SECRET}\"}\n"+
		"  stranger: {kind: webhook_out, url: \"${PEER}/v1/push/upstream_orders\", secret: \"${OTHER_SECRET}\"}\n"), "sending.yaml", lookup)
	if err != nil {
		t.Fatal(err)
	}
	sender := func(name string) connector.Sender {
		s, err := connector.NewSender(connector.Env{System: sending.Systems[name], HTTP: peer.Client(), Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	paid := time.Date(2026, 11, 26, 17, 59, 0, 0, time.FixedZone("CST", 8*3600))
	o := order.Order{Source: "shop_orders", OrderNo: "D20261126005009000001", Status: order.StatusPaid, Currency: "CNY",
		Total: 599900, Goods: 599900, Buyer: order.Buyer{Name: "张三", Phone: "13800001234"},
		Items:     []order.Item{{SKU: "S1", Name: "羽绒服", Quantity: 1, UnitPrice: 599900, Total: 599900}},
		CreatedAt: paid.Add(-time.Minute), PaidAt: paid}
	payload, err := connector.OrderEventPayload(order.EventPaid, paid, o)
	if err != nil {
		t.Fatal(err)
	}
	m := connector.Message{Payload: payload, Key: "to_upstream/shop_orders/D20261126005009000001/paid"}
	res, err := sender("downstream").Send(context.Background(), m)
	if err != nil || res.Code != "201" {
		t.Fatalf("send: %+v, %v", res, err)
	}
	clk.Add(time.Minute)
	again, err := sender("downstream").Send(context.Background(), m)
	if err != nil || again.MessageID != res.MessageID {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	if len(orders) != 2 || ids[0] != ids[1] {
		t.Fatalf("orders %d, ids %v", len(orders), ids)
	}
	got := orders[0]
	want := o
	want.Source = "" // the receiving hub names the source by its push URL
	if got.OrderNo != want.OrderNo || got.Status != want.Status || got.Total != want.Total || got.Buyer != want.Buyer ||
		len(got.Items) != 1 || got.Items[0] != want.Items[0] || !got.PaidAt.Equal(want.PaidAt) || got.Source != "" {
		t.Fatalf("received %+v\nwant %+v", got, want)
	}

	_, err = sender("stranger").Send(context.Background(), m)
	ce, ok := connector.AsCallError(err)
	if !ok || ce.Class != connector.Permanent || ce.Code != "HTTP 401" || ce.Hint == "" {
		t.Fatalf("a stranger's message: %v", err)
	}
	if len(orders) != 2 {
		t.Fatal("a stranger's message was taken")
	}
}
