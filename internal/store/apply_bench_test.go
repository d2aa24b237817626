package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/mall"
	"orderhub/internal/store"
)

// BenchmarkApply measures the ingest transaction alone: batches of parsed
// seed-004 orders written to SQLite with FULL durability.
func BenchmarkApply(b *testing.B) {
	for _, batch := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "b.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			loc, _ := time.LoadLocation("Asia/Shanghai")
			const sign = "baaeda3f7f1c3529010816ddb50778f6"
			gen := mall.NewGenerator(1, sign, loc, "A")
			recv := mall.NewReceiver(sign, loc)
			now := time.Now()
			docs := make([]store.Incoming, b.N)
			for i := range docs {
				o := gen.New(now)
				gen.Advance(o, now)
				p, err := recv.Receive(&connector.PushRequest{Body: mall.Body(o), Now: now})
				if err != nil {
					b.Fatal(err)
				}
				p.Order.Source = "shop"
				docs[i] = store.Incoming{Order: p.Order, Raw: p.Raw, ReceivedAt: now}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < len(docs); i += batch {
				if _, err := s.Apply(ctx, docs[i:min(i+batch, len(docs))], nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/order")
		})
	}
}
