package webhookout_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/webhookout"
	"orderhub/internal/order"
)

// An order event to a team's own system, here a local receiver that checks
// Standard Webhooks signatures: the body is the event and the order, the
// id is derived from the message's key (a retry carries the same one and
// is recognised), the signature is the one
//
//	printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf %s MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 100) -binary | base64
//
// gives, and an endpoint its owner disabled answers 410, which
// the hub does not retry.
func Example() {
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sim, err := webhookout.NewSim(webhookout.SimConfig{Now: now}, secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()

	hook, err := webhookout.New(webhookout.Options{System: "erp_hook", URL: srv.URL + "/hooks/orders", Secret: secret, HTTP: srv.Client(), Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	shanghai := time.FixedZone("CST", 8*3600)
	paid := time.Date(2026, 11, 26, 17, 59, 0, 0, shanghai)
	body, _ := connector.OrderEventPayload(order.EventPaid, paid, order.Order{
		Source: "shop_orders", OrderNo: "D1", Status: order.StatusPaid, Currency: "CNY", Total: 599900,
		Items: []order.Item{{SKU: "S1", Quantity: 1, UnitPrice: 599900, Total: 599900}}, CreatedAt: paid.Add(-time.Minute), PaidAt: paid,
	})
	m := connector.Message{Payload: body, Key: "erp_orders/shop_orders/D1/paid"}
	res, err := hook.Send(context.Background(), m)
	fmt.Println(res.Code, res.MessageID, err)
	_, err = hook.Send(context.Background(), m) // a retry
	fmt.Println("taken", sim.Len(), "duplicates", sim.Duplicates(), err)

	got := sim.Received()[0]
	fmt.Println("webhook-timestamp:", got.Header.Get("webhook-timestamp"))
	fmt.Println("webhook-signature:", got.Header.Get("webhook-signature"))
	fmt.Println(string(got.Body))

	sim.SetGone(true)
	_, err = hook.Send(context.Background(), connector.Message{Payload: body, Key: "erp_orders/shop_orders/D1/shipped"})
	ce, _ := connector.AsCallError(err)
	fmt.Println(ce.Class, ce.Code)
	fmt.Println(ce.Hint)
	// Output:
	// 200 msg_dc381c75942a7fcc4ca512b1c46f81b5 <nil>
	// taken 1 duplicates 1 <nil>
	// webhook-timestamp: 1795687200
	// webhook-signature: v1,pn+O+kengvD4NgcbdjCMWrg7X0UCl+v1zZkZxLlNQW0=
	// {"type":"order.paid","timestamp":"2026-11-26T17:59:00+08:00","data":{"source":"shop_orders","order_no":"D1","status":"paid","currency":"CNY","total":"5999.00","goods_amount":"0.00","freight":"0.00","discount":"0.00","refunded":"0.00","buyer":{},"items":[{"sku":"S1","quantity":1,"unit_price":"5999.00","total":"5999.00"}],"created_at":"2026-11-26T17:58:00+08:00","paid_at":"2026-11-26T17:59:00+08:00"}}
	// permanent HTTP 410
	// 接收方答 410 Gone：它已停用这个端点，不再接收推送。与对方确认后改 url，或从规则的 channels 中去掉该系统；之后可在投递记录中重发
}
