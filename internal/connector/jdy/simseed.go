package jdy

// The demo master data: the customer, stock and material numbers the
// sample bodies in testdata use (shop_no, warehouse_no and spec_no of a
// 旺店通 trade when the flow's lookup tables have no entry), with ids in
// the shape 金蝶云星辰 gives them.
var (
	DemoCustomers = []Customer{
		{ID: "1420169116878110101", Number: "SHOP-A", Name: "天猫旗舰店"},
		{ID: "1420169116878110102", Number: "SHOP-B", Name: "京东自营店"},
	}
	DemoStocks = []Stock{
		{ID: "1420169116878110201", Number: "WH-1", Name: "杭州主仓"},
		{ID: "1420169116878110202", Number: "WH-2", Name: "广州分仓"},
	}
	DemoMaterials = []Material{
		{ID: "1420169116878110301", Number: "SKU-RED-M", Name: "纯棉T恤 红色 M", Units: []Unit{{ID: "1420169116878110000", Name: "件"}}},
		{ID: "1420169116878110302", Number: "SKU-BLK-L", Name: "纯棉T恤 黑色 L", Units: []Unit{{ID: "1420169116878110000", Name: "件"}, {ID: "1420169116878110002", Name: "箱"}}},
		{ID: "1420169116878110303", Number: "GIFT-01", Name: "赠品 帆布袋", Units: []Unit{{ID: "1420169116878110001", Name: "个"}}},
	}
)

// SeedDemo adds the demo master data.
func (s *Sim) SeedDemo() {
	for _, c := range DemoCustomers {
		s.AddCustomer(c)
	}
	for _, st := range DemoStocks {
		s.AddStock(st)
	}
	for _, m := range DemoMaterials {
		s.AddMaterial(m)
	}
}
