package mapping

import (
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkShippedTradeToJDY maps the seed 001 trade (3 goods lines, the
// fields 旺店通 sends) into a 星辰 sal_order_save body with the shipped
// mapping, raw JSON decoding included.
func BenchmarkShippedTradeToJDY(b *testing.B) {
	m, _, err := Shipped("trade.query", "sal_order_save", Options{})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/wdt_trade.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := m.Apply(raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShippedStockinToK3 is the same for seed 003: a stock-in into a
// 星空 SAL_RETURNSTOCK packet.
func BenchmarkShippedStockinToK3(b *testing.B) {
	m, _, err := Shipped("stockin.order.query.refund", "SAL_RETURNSTOCK", Options{})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/wdt_stockin_refund.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Apply(raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineTradeUnmarshal is the baseline to read the mapping
// benchmark against: encoding/json decoding the same trade into maps, with
// no mapping at all.
func BenchmarkBaselineTradeUnmarshal(b *testing.B) {
	raw, err := os.ReadFile("testdata/wdt_trade.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
}
