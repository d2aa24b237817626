package jdy

import (
	"context"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

func goodBill(no string) connector.Bill {
	return connector.Bill{No: no, Body: map[string]any{
		"billsource": "APP", "billdate": "2026-11-11", "billno": no, "customerid_number": "SHOP-A",
		"material_entity": []any{
			map[string]any{"materialid_number": "SKU-RED-M", "stockid_number": "WH-1", "qty": "2", "taxprice": "89.50", "is_free": "false"},
			map[string]any{"materialid_number": "GIFT-01", "stockid_number": "WH-1", "qty": "1", "taxprice": "0", "is_free": "true"},
		},
	}}
}

func badBill(no string) connector.Bill {
	return connector.Bill{No: no, Body: map[string]any{
		"billdate": "2026-11-11", "billno": no, "customerid_number": "SHOP-A",
		"material_entity": []any{map[string]any{"materialid_number": "SKU-NOPE", "qty": "1"}},
	}}
}

func TestConformance(t *testing.T) {
	for _, shape := range []struct {
		name   string
		legacy bool
	}{{"GatewayAnswers", false}, {"LegacyAnswers", true}} {
		t.Run(shape.name, func(t *testing.T) {
			connectortest.RunWrite(t, func(t *testing.T) connectortest.WriteSetup {
				p := newSimPair(t, SimConfig{LegacyAnswers: shape.legacy})
				// Log in first, so that a fault the suite injects falls on
				// the call it means, not on the token fetch.
				if _, _, err := p.client.Find(context.Background(), APISalOrderSave, "OH-WARMUP"); err != nil {
					t.Fatalf("warm-up: %v", err)
				}
				wrong := simOptions(p.sim, p.srv.URL, p.clock.Now)
				wrong.AppSecret = "not-the-app-secret"
				bad, err := New(wrong)
				if err != nil {
					t.Fatal(err)
				}
				api, _ := writeCapability().API(APISalOrderSave)
				return connectortest.WriteSetup{
					Writer: p.client, API: api, Faults: p.sim.Faults(),
					Good: goodBill, Bad: badBill, Stored: p.sim.Count,
					BadCredentials: bad,
				}
			})
		})
	}
}

func writeCapability() *connector.WriteCapability {
	k, ok := connector.Lookup(Kind)
	if !ok || k.Write == nil {
		panic("jdy is not registered as a write target")
	}
	return k.Write
}
