package config

import "testing"

func TestFlowLookupsDecode(t *testing.T) {
	cfg, err := Parse([]byte("systems:\n  erp: {kind: testerp}\nsources:\n  o: {system: erp, mode: pull, api: orders.query, start: \"2026-01-01 00:00:00\"}\nflows:\n  f:\n    source: o\n    target: erp\n    api: bill_save\n    vars: {sale_org: \"200\"}\n    lookups:\n      materials: {SKU-1: \"1.01.001\", SKU-2: \"1.01.002\"}\n    retry: {initial: 2s, max: 1m, attempts: 5}\n"), "t.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Flows["f"]
	if f.Lookups["materials"]["SKU-2"] != "1.01.002" || f.Vars["sale_org"] != "200" || f.Retry.Attempts != 5 || f.Retry.Max.Std().Minutes() != 1 {
		t.Fatalf("flow = %+v", f)
	}
	if cfg.Sources["o"].StartAt.IsZero() || cfg.Sources["o"].StartAt.Hour() != 0 {
		t.Fatalf("start = %v", cfg.Sources["o"].StartAt)
	}
}
