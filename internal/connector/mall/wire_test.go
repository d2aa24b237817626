package mall

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
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

// inbound names every documented field, read or skipped, and nothing else:
// a field added to Order but not to inbound would be taken for an unknown
// name, and a misspelt skipped name would let the real one through unread.
func TestInboundNamesMatchOrder(t *testing.T) {
	for _, tc := range []struct {
		name          string
		doc, read     reflect.Type
		skipped       reflect.Type
		fallbackField string
	}{
		{"order", reflect.TypeFor[Order](), reflect.TypeFor[inbound](), reflect.TypeFor[mallSkipped](), "Unknown"},
		{"line", reflect.TypeFor[Detail](), reflect.TypeFor[inboundLine](), reflect.TypeFor[lineSkipped](), "Unknown"},
	} {
		got := map[string]int{}
		for _, typ := range []reflect.Type{tc.read, tc.skipped} {
			for f := range typ.Fields() {
				if f.Anonymous || f.Name == tc.fallbackField {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				got[name]++
			}
		}
		want := jsonNames(tc.doc)
		for name, n := range got {
			if !want[name] || n != 1 {
				t.Errorf("%s: %q is declared %d times to read or skip, and documented: %v", tc.name, name, n, want[name])
			}
		}
		for name := range want {
			if got[name] == 0 {
				t.Errorf("%s: documented field %q is neither read nor skipped", tc.name, name)
			}
		}
	}
}
