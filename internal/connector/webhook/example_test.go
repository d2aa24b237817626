package webhook_test

import (
	"fmt"
	"net/http"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/webhook"
)

// A sender signs the exact body it sends; orderhub checks the signature,
// the timestamp's age, and then the body. (The signature is the one
// printf '%s' "$ts.$body" | openssl dgst -sha256 -hmac "$secret" gives.)
func ExampleSign() {
	secret := "whsec_test_secret_0123456789"
	body := []byte(`{"order_no":"A1","status":"paid","total":"12.30","created_at":"2026-11-25T10:00:00+08:00"}`)
	now := time.Unix(1764036000, 0)
	ts, sig := webhook.Sign(secret, now, body)
	fmt.Println(webhook.HeaderTimestamp+":", ts)
	fmt.Println(webhook.HeaderSignature+":", sig)

	r := webhook.NewReceiver(5*time.Minute, secret)
	h := http.Header{}
	h.Set(webhook.HeaderTimestamp, ts)
	h.Set(webhook.HeaderSignature, sig)
	got, err := r.Receive(&connector.PushRequest{Header: h, Body: body, Now: now.Add(time.Minute)})
	fmt.Println(got.Order.OrderNo, got.Order.Status, got.Order.Total, err)

	// Ten minutes later the same request is a replay.
	_, err = r.Receive(&connector.PushRequest{Header: h, Body: body, Now: now.Add(10 * time.Minute)})
	fmt.Println(err)
	// Output:
	// X-Orderhub-Timestamp: 1764036000
	// X-Orderhub-Signature: v1=9b7b0021219175810b9fb1b6154abe3a893fc86961948a1527b3f4a07d62613f
	// A1 paid 12.30 <nil>
	// 401 stale_timestamp: X-Orderhub-Timestamp is 10m0s away from the server's clock, more than the 5m0s allowed; sign each request when sending it, and keep the sender's clock in sync (NTP)
}
