package k3cloud_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"orderhub/internal/connector"
	"orderhub/internal/connector/k3cloud"
)

// A 销售退货单 from a 旺店通 return stock-in, written to a simulated
// 金蝶云星空 site: saved once, refused as a duplicate when sent again, and
// refused with a Chinese hint when its material is unknown.
func ExampleClient_Write() {
	sim := k3cloud.NewSim(k3cloud.SimConfig{})
	sim.AddMaterials("SKU-RED-M")
	sim.AddCustomers("SHOP-A")
	sim.AddStocks("WH-1")
	srv := httptest.NewServer(sim)
	defer srv.Close()

	client, err := k3cloud.New(k3cloud.Config{
		System: "xingkong", BaseURL: srv.URL + "/k3cloud",
		AcctID: "63f2a1b0c9d8e7", Username: "apiuser", Password: "k3-sim-password",
	})
	if err != nil {
		panic(err)
	}
	bill := func(no, material string) connector.Bill {
		return connector.Bill{No: no, Body: map[string]any{
			"FBillTypeID":   map[string]any{"FNUMBER": "XSTHD01_SYS"},
			"FDate":         "2024-11-12 14:00:00",
			"FSaleOrgId":    map[string]any{"FNumber": "100"},
			"FStockOrgId":   map[string]any{"FNumber": "100"},
			"FRetcustId":    map[string]any{"FNumber": "SHOP-A"},
			"SubHeadEntity": map[string]any{"FSettleOrgId": map[string]any{"FNumber": "100"}},
			"FEntity": []any{map[string]any{
				"FMaterialId": map[string]any{"FNumber": material}, "FRealQty": "1",
				"FTaxPrice": "179.00", "FStockId": map[string]any{"FNumber": "WH-1"}}},
		}}
	}
	ctx := context.Background()
	res, err := client.Write(ctx, k3cloud.FormReturnStock, []connector.Bill{
		bill("RK2411110001", "SKU-RED-M"),
		bill("RK2411110002", "SKU-GONE"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res[0].No, "saved as FID", res[0].ID)
	fmt.Println(res[1].No, res[1].Err.Code, res[1].Err.Field)
	fmt.Println(res[1].Err.Hint)

	again, _ := client.Write(ctx, k3cloud.FormReturnStock, []connector.Bill{bill("RK2411110001", "SKU-RED-M")})
	id, found, _ := client.Find(ctx, k3cloud.FormReturnStock, "RK2411110001")
	fmt.Println("sent again: duplicate", again[0].Duplicate, "; found", found, id)
	fmt.Println("bills held:", sim.Count(k3cloud.FormReturnStock, "RK2411110001"), "logins:", sim.Logins())
	// Output:
	// RK2411110001 saved as FID 100001
	// RK2411110002 MsgCode 9 FMaterialId
	// 物料编码 SKU-GONE 在金蝶中不存在（或未审核、已禁用）：在金蝶新增（审核）该资料，或在流程的 lookup 表中把 SKU-GONE 映射到金蝶已有的编码，然后重试
	// sent again: duplicate true ; found true 100001
	// bills held: 1 logins: 1
}
