package mapping

import (
	"fmt"
	"os"
	"reflect"
	"testing"
)

// unnative makes every expression of m run on expr's machine.
func unnative(m *Mapping) {
	for _, p := range []*program{m.when, m.billNo} {
		if p != nil {
			p.native = nil
		}
	}
	var walk func(f *cfield)
	walk = func(f *cfield) {
		if f == nil {
			return
		}
		for _, p := range []*program{f.expr, f.cond, f.each, f.where, f.fused, f.fusedWhere} {
			if p != nil {
				p.native = nil
			}
		}
		for _, sub := range f.fields {
			walk(sub)
		}
	}
	walk(m.body)
}

// outcome is what applying a mapping gave, in a form to compare.
func outcome(res Result, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%#v", res)
}

// A native run is only a speed-up: every helper case gives the same value,
// or the same error, as on expr's machine, alone and inside a fused object.
func TestNativeRunsMatchTheMachine(t *testing.T) {
	for _, tt := range helperCases {
		for _, layout := range []string{
			"body:\n  v: %s\n",
			"body:\n  v: %s\n  w: '\"x\"'\n", // fused with another field
			"body:\n  l:\n    $each: '[1, 2]'\n    $where: 'true'\n    v: %[1]s\n    w: '\"x\"'\n", // a line
		} {
			text := "bill_no: '\"B1\"'\nvars: {org: \"100\", n: 2}\nlookups:\n  materials: {SKU-1: M001, \"7\": M007}\n  empty: {}\n" +
				fmt.Sprintf(layout, yamlQuote(tt.expr))
			fast, err := Parse("t.yaml", []byte(text), Options{})
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			slow, _ := Parse("t.yaml", []byte(text), Options{})
			unnative(slow)
			got := outcome(fast.Apply([]byte(helperDoc), nil))
			want := outcome(slow.Apply([]byte(helperDoc), nil))
			if got != want {
				t.Errorf("%s, layout %q:\nnative  %s\nmachine %s", tt.name, layout, got, want)
			}
		}
	}
}

// The shipped mappings run natively from end to end, and give what the
// machine gives.
func TestShippedMappingsRunNatively(t *testing.T) {
	for _, tt := range []struct{ source, target, doc string }{
		{"trade.query", "sal_order_save", "testdata/wdt_trade.json"},
		{"stockin.order.query.refund", "SAL_RETURNSTOCK", "testdata/wdt_stockin_refund.json"},
	} {
		m := shipped(t, tt.source, tt.target, Options{})
		var missing []string
		if m.billNo.native == nil {
			missing = append(missing, "bill_no")
		}
		var walk func(f *cfield, path string)
		walk = func(f *cfield, path string) {
			for name, p := range map[string]*program{"fused": f.fused, "fusedWhere": f.fusedWhere, "$each": f.each} {
				if p != nil && p.native == nil {
					missing = append(missing, path+" "+name)
				}
			}
			for _, sub := range f.fields {
				walk(sub, path+"."+sub.key)
			}
		}
		walk(m.body, "body")
		if len(missing) > 0 {
			t.Errorf("%s: not native: %v", tt.target, missing)
		}
		raw, err := os.ReadFile(tt.doc)
		if err != nil {
			t.Fatal(err)
		}
		slow := shipped(t, tt.source, tt.target, Options{})
		unnative(slow)
		a, errA := m.Apply(raw, nil)
		b, errB := slow.Apply(raw, nil)
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: native %+v, %v\nmachine %+v, %v", tt.target, a, errA, b, errB)
		}
	}
}
