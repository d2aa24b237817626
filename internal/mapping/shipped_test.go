package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func shipped(t *testing.T, source, target string, opts Options) *Mapping {
	t.Helper()
	m, ok, err := Shipped(source, target, opts)
	if !ok || err != nil {
		t.Fatalf("Shipped(%s, %s) = %v, %v", source, target, ok, err)
	}
	return m
}

// The shipped mappings against documents shaped like 旺店通's answers; the
// golden files are the exact bodies sent to 星辰 and 星空.
func TestShippedMappingsGolden(t *testing.T) {
	tests := []struct {
		source, target, doc, golden, billNo string
	}{
		{"trade.query", "sal_order_save", "testdata/wdt_trade.json", "testdata/jdy_sal_order_save.golden.json", "JY24111100012"},
		{"stockin.order.query.refund", "SAL_RETURNSTOCK", "testdata/wdt_stockin_refund.json", "testdata/k3_sal_returnstock.golden.json", "RK2411110001"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			m := shipped(t, tt.source, tt.target, Options{})
			if m.UsesOrder() {
				t.Error("a shipped mapping reads the canonical order; flows would have to build it")
			}
			if m.Source() != tt.source || m.Target() != tt.target {
				t.Errorf("Source, Target = %s, %s", m.Source(), m.Target())
			}
			raw, err := os.ReadFile(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.Apply(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.BillNo != tt.billNo {
				t.Errorf("BillNo = %q, want %q", res.BillNo, tt.billNo)
			}
			got, err := json.MarshalIndent(res.Body, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			if *update {
				os.WriteFile(tt.golden, got, 0o644)
			}
			want, err := os.ReadFile(tt.golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body differs from %s:\n%s", tt.golden, got)
			}
		})
	}
}

func TestShippedTradeDetails(t *testing.T) {
	raw, _ := os.ReadFile("testdata/wdt_trade.json")
	m := shipped(t, "trade.query", "sal_order_save", Options{
		Lookups: map[string]Table{
			"customers":  {"SHOP-A": "CUST-0001"},
			"warehouses": {"WH-1": "CK001"},
			"materials":  {"SKU-RED-M": "1001"},
		},
	})
	res, err := m.Apply(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Body
	if b["customerid_number"] != "CUST-0001" || b["billdate"] != "2024-11-11" || b["billno"] != "JY24111100012" || b["billsource"] != "APP" {
		t.Errorf("header = %v", b)
	}
	lines := b["material_entity"].([]any)
	first, second, gift := lines[0].(map[string]any), lines[1].(map[string]any), lines[2].(map[string]any)
	if first["materialid_number"] != "1001" || first["stockid_number"] != "CK001" || first["taxprice"] != "179.00" || first["is_free"] != "false" {
		t.Errorf("line 1 = %v", first)
	}
	// 218.00 over 3 pieces, rounded once to fen; the unmapped SKU keeps its code.
	if second["materialid_number"] != "SKU-BLU-L" || second["qty"] != "3" || second["taxprice"] != "72.67" {
		t.Errorf("line 2 = %v", second)
	}
	if gift["is_free"] != "true" || gift["taxprice"] != "0.00" {
		t.Errorf("gift line = %v", gift)
	}
}

func TestShippedStockinDetails(t *testing.T) {
	raw, _ := os.ReadFile("testdata/wdt_stockin_refund.json")
	m := shipped(t, "stockin.order.query.refund", "SAL_RETURNSTOCK", Options{
		Vars:    map[string]any{"sale_org": "200", "stock_org": "201", "bill_type": "XSTHD06_SYS"},
		Lookups: map[string]Table{"units": {"件": "Pcs"}, "warehouses": {"WH-1": "CK-HZ"}},
	})
	res, err := m.Apply(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.Body)
	for _, want := range []string{
		`"FBillTypeID":{"FNUMBER":"XSTHD06_SYS"}`, `"FSaleOrgId":{"FNumber":"200"}`, `"FStockOrgId":{"FNumber":"201"}`,
		`"FUnitID":{"FNumber":"Pcs"}`, `"FStockId":{"FNumber":"CK-HZ"}`, `"FSettleOrgId":{"FNumber":"100"}`,
		`"FDate":"2024-11-12 14:00:00"`, `"FRealQty":1`, `"FTaxPrice":179.00`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("body lacks %s:\n%s", want, b)
		}
	}
	// The zero-quantity line is not returned.
	if n := len(res.Body["FEntity"].([]any)); n != 1 {
		t.Errorf("%d entry lines, want 1", n)
	}
}

func TestShippedRefusesUnknownVarsAndPairs(t *testing.T) {
	_, ok, err := Shipped("trade.query", "sal_order_save", Options{Vars: map[string]any{"org": "100"}})
	var ps Problems
	if !ok || !errors.As(err, &ps) || !strings.Contains(err.Error(), `declares no var "org"`) || !strings.Contains(err.Error(), "billsource") {
		t.Errorf("unknown var: %v, %v", ok, err)
	}
	if m, ok, err := Shipped("trade.query", "SAL_RETURNSTOCK", Options{}); ok || m != nil || err != nil {
		t.Errorf("unshipped pair: %v, %v, %v", m, ok, err)
	}
	if len(ShippedPairs()) != 2 {
		t.Errorf("ShippedPairs() = %v", ShippedPairs())
	}
	for _, p := range ShippedPairs() {
		text, ok := ShippedText(p[0], p[1])
		if !ok || !bytes.Contains(text, []byte("target: "+p[1])) {
			t.Errorf("ShippedText(%v) = %q", p, text)
		}
	}
}

// A refused lookup-free document still names every field a person must fix.
func TestShippedTradeErrors(t *testing.T) {
	m := shipped(t, "trade.query", "sal_order_save", Options{})
	_, err := m.Apply([]byte(`{"trade_no": "JY1", "trade_time": "0000-00-00 00:00:00", "shop_no": "S",
		"warehouse_no": "W", "goods_list": [{"spec_no": "A", "num": "2.0000", "share_amount": "x", "gift_type": 0}]}`), nil)
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Fields) != 2 {
		t.Fatalf("err = %v", err)
	}
	if ae.Fields[0].Field != "billdate" || ae.Fields[1].Field != "material_entity[0].taxprice" ||
		ae.Fields[1].Value() != `line.share_amount = "x", line.num = "2.0000"` {
		t.Errorf("errors = %v", err)
	}
}

// 旺店通 versions that send only stockin_price still map; with neither price
// the line is an error, not a bill at price 0.
func TestShippedStockinPriceFallback(t *testing.T) {
	m := shipped(t, "stockin.order.query.refund", "SAL_RETURNSTOCK", Options{})
	doc := func(price string) []byte {
		return []byte(`{"order_no": "RK1", "stockin_time": "2024-11-12 14:00:00", "shop_no": "S", "warehouse_no": "W",
			"details_list": [{"spec_no": "A", "num": "2.0000"` + price + `}]}`)
	}
	res, err := m.Apply(doc(`, "stockin_price": "0.0000"`), nil)
	if err != nil {
		t.Fatal(err)
	}
	line := res.Body["FEntity"].([]any)[0].(map[string]any)
	if line["FTaxPrice"] != json.Number("0.00") || line["FIsFree"] != true || line["FRealQty"] != json.Number("2") {
		t.Errorf("line = %v", line)
	}
	_, err = m.Apply(doc(""), nil)
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Fields) != 2 || ae.Fields[0].Field != "FEntity[0].FTaxPrice" {
		t.Errorf("err = %v", err)
	}
	if b, _ := json.Marshal(ae); !strings.Contains(string(b), `"field":"FEntity[0].FTaxPrice"`) {
		t.Errorf("JSON = %s", b)
	}
}
