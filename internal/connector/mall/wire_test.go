package mall

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// The wire types must read the seed document with every field known, so the
// simulator writes exactly the shape the mall documents.
func TestWireReadsSeedStrictly(t *testing.T) {
	b, err := os.ReadFile("testdata/seed004_order.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var o Order
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("seed 004 does not fit the wire types: %v", err)
	}
	if o.OrderNo != "20250320165809904355" || *o.TotalPayPrice != "3.00" || len(o.Detail) != 1 || o.Detail[0].GoodsInfo.GoodsAttr.Name != "cce" {
		t.Fatalf("decoded wrongly: %+v", o)
	}
}
