package mall

import (
	"net/http"
	"testing"
	"time"

	"orderhub/internal/connector"
)

// BenchmarkReceive is the mall's share of every push: parse, check the
// sign, normalize, redact. Compare runs side by side (-count, benchstat).
func BenchmarkReceive(b *testing.B) {
	body := seedDoc(b)
	r := NewReceiver(seedSign, time.FixedZone("CST", 8*3600))
	req := &connector.PushRequest{Header: http.Header{}, Body: body, Now: time.Now()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Receive(req); err != nil {
			b.Fatal(err)
		}
	}
}
