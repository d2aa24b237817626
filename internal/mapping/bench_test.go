package mapping

import (
	"encoding/json"
	"os"
	"runtime"
	"testing"
)

// loop runs body b.N times and reports, beside ns/op, the CPU time of the
// benchmark's thread per op (cpu-ns/op; 0 where it cannot be read).
func loop(b *testing.B, body func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start := threadCPU()
	n := 0
	for b.Loop() {
		body()
		n++
	}
	if used := threadCPU() - start; used > 0 && n > 0 {
		b.ReportMetric(float64(used)/float64(n), "cpu-ns/op")
	}
}

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
	b.SetBytes(int64(len(raw)))
	loop(b, func() {
		if _, err := m.Apply(raw, nil); err != nil {
			b.Fatal(err)
		}
	})
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
	loop(b, func() {
		if _, err := m.Apply(raw, nil); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBaselineTradeUnmarshal is the baseline to read the mapping
// benchmark against: encoding/json decoding the same trade into maps, with
// no mapping at all.
func BenchmarkBaselineTradeUnmarshal(b *testing.B) {
	raw, err := os.ReadFile("testdata/wdt_trade.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	loop(b, func() {
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDecodeTrade is the decoding part of BenchmarkShippedTradeToJDY:
// the members the shipped mapping reads, out of a whole trade.
func BenchmarkDecodeTrade(b *testing.B) {
	m, _, err := Shipped("trade.query", "sal_order_save", Options{})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/wdt_trade.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	loop(b, func() {
		if _, err := decodeDoc(raw, m.need); err != nil {
			b.Fatal(err)
		}
	})
}
