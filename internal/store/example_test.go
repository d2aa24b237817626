package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

func ExampleStore_Apply() {
	dir, err := os.MkdirTemp("", "orderhub-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "orderhub.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	total, _ := order.ParseMoney("12.30")
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	in := store.Incoming{
		Order: order.Order{
			Source: "shop", OrderNo: "A-1001", Status: order.StatusPaid, Currency: "CNY", Total: total,
			Items:     []order.Item{{SKU: "TS-BLK-M", Quantity: 1, UnitPrice: total, Total: total}},
			CreatedAt: at, UpdatedAt: at,
		},
		Raw:        []byte(`{"id":"A-1001","status":"paid","total":"12.30"}`),
		ReceivedAt: at.Add(time.Second),
	}
	for range 2 { // the second time, the same payload is a duplicate
		out, err := s.Apply(ctx, []store.Incoming{in}, nil)
		if err != nil {
			panic(err)
		}
		fmt.Println(out[0].Result, out[0].Version, out[0].Events)
	}
	// Output:
	// created 1 [created paid]
	// duplicate 1 []
}
