package jdy_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"orderhub/internal/connector"
	"orderhub/internal/connector/jdy"
)

// A client pointed at the simulator writes a sales order, finds it by
// number, and gets a refusal with a Chinese hint for an unknown material.
func Example() {
	sim := jdy.NewSim(jdy.SimConfig{})
	sim.SeedDemo()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	cfg := sim.Config()
	client, err := jdy.New(jdy.Options{
		System: "xingchen", BaseURL: srv.URL,
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		AppKey: cfg.AppKey, AppSecret: cfg.AppSecret,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	bill := connector.Bill{No: "JY24111100012", Body: map[string]any{
		"billdate": "2024-11-11", "customerid_number": "SHOP-A",
		"material_entity": []any{
			map[string]any{"materialid_number": "SKU-RED-M", "stockid_number": "WH-1", "qty": "2", "taxprice": "89.50", "is_free": "false"},
		},
	}}
	res, err := client.Write(ctx, jdy.APISalOrderSave, []connector.Bill{bill})
	if err != nil {
		panic(err)
	}
	id, found, _ := client.Find(ctx, jdy.APISalOrderSave, "JY24111100012")
	fmt.Println("written:", res[0].ID != "", "found:", found, id == res[0].ID, "held:", sim.Count("JY24111100012"))

	again, _ := client.Write(ctx, jdy.APISalOrderSave, []connector.Bill{bill})
	fmt.Println("again: duplicate:", again[0].Duplicate)

	bad := connector.Bill{No: "JY24111100013", Body: map[string]any{
		"billdate": "2024-11-11", "customerid_number": "SHOP-A",
		"material_entity": []any{map[string]any{"materialid_number": "SKU-NOPE", "qty": "1"}},
	}}
	refused, _ := client.Write(ctx, jdy.APISalOrderSave, []connector.Bill{bad})
	e := refused[0].Err
	fmt.Println(e.Class, e.Field)
	fmt.Println(e.Message)
	fmt.Println(e.Hint)
	// Output:
	// written: true found: true true held: 1
	// again: duplicate: true
	// permanent material_entity[0].materialid_number
	// 第1行商品编码[SKU-NOPE]不存在
	// 商品（物料）SKU-NOPE 在金蝶云星辰中不存在：在金蝶新增该商品，或在流程的 lookup 表中把 SKU-NOPE 映射到已有商品编码，然后重试
}
