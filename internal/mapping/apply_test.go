package mapping

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func mustParse(t *testing.T, text string, opts Options) *Mapping {
	t.Helper()
	m, err := Parse("m.yaml", []byte(text), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// body applies m to doc and returns the body as JSON, so tests compare what
// a target would receive.
func bodyJSON(t *testing.T, m *Mapping, doc string) string {
	t.Helper()
	res, err := m.Apply([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const linesMapping = `
bill_no: doc.no
vars: {org: "100"}
lookups:
  units: {件: Pcs}
body:
  FBillNo: bill_no
  FSaleOrgId: {FNumber: vars.org}
  FExchangeRate: 1
  FIsIncludedTax: true
  FRate: 1.50
  Tags: ['"a"', doc.no]
  SubHeadEntity:
    FSettleOrgId:
      FNumber: vars.org
  FNote:
    $if: (doc.remark ?? "") != ""
    $value: doc.remark
  FEntity:
    $each: doc.lines
    $where: dec(line.num) != 0
    FMaterialId: {FNumber: line.sku}
    FUnitID:
      $if: has("units", line.unit)
      FNumber: lookup("units", line.unit)
    FRealQty: num(line.num)
    FSerials:
      $each: line.serials ?? []
      FSerialNo: line
`

func TestLinesNestedObjectsAndConditions(t *testing.T) {
	m := mustParse(t, linesMapping, Options{})
	doc := `{"no": "RK1", "remark": "", "lines": [
		{"sku": "A", "num": "1.0000", "unit": "件", "serials": ["S1", "S2"]},
		{"sku": "B", "num": "0.0000", "unit": "件"},
		{"sku": "C", "num": "2.5000", "unit": "箱"}]}`
	want := `{"FBillNo":"RK1","FEntity":[` +
		`{"FMaterialId":{"FNumber":"A"},"FRealQty":1,"FSerials":[{"FSerialNo":"S1"},{"FSerialNo":"S2"}],"FUnitID":{"FNumber":"Pcs"}},` +
		`{"FMaterialId":{"FNumber":"C"},"FRealQty":2.5,"FSerials":[]}],` +
		`"FExchangeRate":1,"FIsIncludedTax":true,"FRate":1.50,"FSaleOrgId":{"FNumber":"100"},` +
		`"SubHeadEntity":{"FSettleOrgId":{"FNumber":"100"}},"Tags":["a","RK1"]}`
	if got := bodyJSON(t, m, doc); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	// With a remark, $if keeps the field.
	got := bodyJSON(t, m, `{"no": "RK2", "remark": "退货", "lines": []}`)
	if !strings.Contains(got, `"FNote":"退货"`) || !strings.Contains(got, `"FEntity":[]`) {
		t.Errorf("body = %s", got)
	}
}

func TestFlowVarsOverrideDefaults(t *testing.T) {
	m := mustParse(t, linesMapping, Options{Vars: map[string]any{"org": "200"}})
	if got := bodyJSON(t, m, `{"no": "X", "lines": []}`); !strings.Contains(got, `"FSaleOrgId":{"FNumber":"200"}`) {
		t.Errorf("body = %s", got)
	}
	if m.Vars()["org"] != "200" {
		t.Errorf("Vars() = %v", m.Vars())
	}
}

func TestWhen(t *testing.T) {
	text := "when: doc.status == 80 && vars.on\nvars: {on: true}\nbill_no: doc.no\nbody: {no: bill_no}\n"
	m := mustParse(t, text, Options{})
	tests := []struct {
		doc     string
		skipped bool
		err     string
	}{
		{`{"status": 80, "no": "A"}`, false, ""},
		{`{"status": 10, "no": "A"}`, true, ""},
		{`{"no": "A"}`, true, ""},
	}
	for _, tt := range tests {
		res, err := m.Apply([]byte(tt.doc), nil)
		if err != nil || res.Skipped != tt.skipped {
			t.Errorf("Apply(%s) = %+v, %v", tt.doc, res, err)
		}
		ok, err := m.When([]byte(tt.doc), nil)
		if err != nil || ok == tt.skipped {
			t.Errorf("When(%s) = %v, %v", tt.doc, ok, err)
		}
		if !tt.skipped && res.BillNo != "A" {
			t.Errorf("BillNo = %q", res.BillNo)
		}
	}
	// The flow's when replaces the file's; the flow's vars reach it.
	m = mustParse(t, text, Options{When: "doc.status == 10"})
	if res, _ := m.Apply([]byte(`{"status": 10, "no": "A"}`), nil); res.Skipped {
		t.Error("flow's when not used")
	}
	m = mustParse(t, text, Options{Vars: map[string]any{"on": false}})
	if res, _ := m.Apply([]byte(`{"status": 80, "no": "A"}`), nil); !res.Skipped {
		t.Error("flow's var not used by when")
	}
	// A when that fails is an error, not a skip.
	m = mustParse(t, "when: dec(doc.amount) > 0\nbody: {a: '\"x\"'}\n", Options{})
	_, err := m.When([]byte(`{"amount": "n/a"}`), nil)
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Fields[0].Field != "when" || ae.Fields[0].Value() != `doc.amount = "n/a"` {
		t.Errorf("When error = %v", err)
	}
	// No when: everything is written.
	m = mustParse(t, "body: {a: '\"x\"'}\n", Options{})
	if ok, err := m.When([]byte(`{}`), nil); !ok || err != nil {
		t.Errorf("When without when: = %v, %v", ok, err)
	}
}

func TestApplyErrorsNameEveryField(t *testing.T) {
	m := mustParse(t, `
bill_no: doc.no
lookups: {materials: {}}
body:
  billdate: date(doc.time, "2006-01-02")
  material_entity:
    $each: doc.goods
    materialid_number: lookup("materials", line.sku)
    qty: qty(line.num)
    taxprice: money(dec(line.amount) / dec(line.num))
`, Options{})
	doc := `{"no": "T1", "time": "yesterday", "goods": [
		{"sku": "A", "num": "1", "amount": "10"},
		{"sku": "B", "num": "abc", "amount": "10"},
		{"sku": "C", "num": "0", "amount": "10"}]}`
	_, err := m.Apply([]byte(doc), nil)
	var ae *ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v", err)
	}
	type row struct{ field, expr, values, msg string }
	want := []row{
		{"billdate", `date(doc.time, "2006-01-02")`, `doc.time = "yesterday"`, "not a time"},
		{"material_entity[0].materialid_number", `lookup("materials", line.sku)`, `line.sku = "A"`, `no entry for "A"`},
		{"material_entity[1].materialid_number", `lookup("materials", line.sku)`, `line.sku = "B"`, `no entry for "B"`},
		{"material_entity[1].qty", `qty(line.num)`, `line.num = "abc"`, `"abc" is not a decimal number`},
		{"material_entity[1].taxprice", `money(dec(line.amount) / dec(line.num))`, `line.amount = "10", line.num = "abc"`, "not a decimal"},
		{"material_entity[2].materialid_number", `lookup("materials", line.sku)`, `line.sku = "C"`, `no entry for "C"`},
		{"material_entity[2].taxprice", `money(dec(line.amount) / dec(line.num))`, `line.amount = "10", line.num = "0"`, "division by zero"},
	}
	if len(ae.Fields) != len(want) {
		t.Fatalf("%d field errors, want %d:\n%v", len(ae.Fields), len(want), err)
	}
	for i, w := range want {
		f := ae.Fields[i]
		if f.Field != w.field || f.Expr != w.expr || f.Value() != w.values || !strings.Contains(f.Msg, w.msg) {
			t.Errorf("field error %d = %+v\nwant %+v", i, f, w)
		}
		if f.Pos.File != "m.yaml" || f.Pos.Line == 0 {
			t.Errorf("field error %d has no position: %+v", i, f.Pos)
		}
	}
	if ae.BillNo != "T1" || !strings.Contains(err.Error(), "7 fields failed for bill T1") {
		t.Errorf("ApplyError = %v", err)
	}
}

func TestApplyRefusesBadDocumentsAndBillNumbers(t *testing.T) {
	m := mustParse(t, "bill_no: doc.no\nbody: {no: bill_no}\n", Options{})
	tests := []struct{ doc, err string }{
		{`not json`, "not valid JSON"},
		{`[1, 2]`, "not a JSON object"},
		{`{"no": "A"} x`, "not valid JSON"},
		{``, "empty"},
		{`{"no": ""}`, "the bill number is empty"},
		{`{}`, "the bill number is a missing value"},
		{`{"no": true}`, "the bill number is a boolean"},
	}
	for _, tt := range tests {
		_, err := m.Apply([]byte(tt.doc), nil)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Apply(%s) = %v, want %q", tt.doc, err, tt.err)
		}
	}
	res, err := m.Apply([]byte(`{"no": 12345}`), nil)
	if err != nil || res.BillNo != "12345" {
		t.Errorf("numeric bill number: %+v, %v", res, err)
	}
}

func TestBillNoDefaultsToTheCanonicalOrderNumber(t *testing.T) {
	m := mustParse(t, "body: {billno: bill_no}\n", Options{})
	if !m.UsesOrder() {
		t.Fatal("UsesOrder is false")
	}
	res, err := m.Apply([]byte(`{}`), map[string]any{"order_no": "JY1"})
	if err != nil || res.BillNo != "JY1" || res.Body["billno"] != "JY1" {
		t.Errorf("%+v, %v", res, err)
	}
}

func TestCSVLookups(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "materials.csv"), []byte("\ufeffwdt_spec_no,k3_number,note\nSKU-RED-M,1.01.001,红色 M\n\"SKU,COMMA\",1.01.002\n\nSKU-BLU-L, 1.01.003 \n"), 0o644)
	path := filepath.Join(dir, "m.yaml")
	os.WriteFile(path, []byte("lookups: {materials: materials.csv}\nbill_no: '\"B\"'\nbody:\n  a: lookup(\"materials\", doc.a)\n  b: lookup(\"materials\", doc.b)\n  c: lookup(\"materials\", doc.c, doc.c)\n  d: lookup(\"materials\", doc.d)\n"), 0o644)
	m, err := Load(path, Options{Lookups: map[string]Table{"materials": {"SKU-BLU-L": "1.01.999"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := bodyJSON(t, m, `{"a": "SKU-RED-M", "b": "SKU,COMMA", "c": "SKU-NEW", "d": "SKU-BLU-L"}`)
	if want := `{"a":"1.01.001","b":"1.01.002","c":"SKU-NEW","d":"1.01.999"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	bad := []struct{ csv, pos, msg string }{
		{"k,v\nA,1\nA,2\n", ":3", `"A" is already in the table at line 2`},
		{"k,v\n,1\n", ":2", "empty key"},
		{"k,v\nA\n", ":2", "no value column"},
		{"k\nA,1\n", ":1", "fewer than two columns"},
		{"k,v\n\"A,1\n", ":2", "quote"},
	}
	for _, b := range bad {
		os.WriteFile(filepath.Join(dir, "materials.csv"), []byte(b.csv), 0o644)
		_, err := Load(path, Options{})
		if err == nil || !strings.Contains(err.Error(), "materials.csv"+b.pos) || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("CSV %q: %v, want materials.csv%s and %q", b.csv, err, b.pos, b.msg)
		}
	}
}

func TestApplyIsSafeForConcurrentUse(t *testing.T) {
	m := mustParse(t, linesMapping, Options{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				no := string(rune('A' + g))
				res, err := m.Apply([]byte(`{"no": "`+no+`", "lines": [{"sku": "X", "num": "1"}]}`), nil)
				if err != nil || res.BillNo != no || res.Body["FBillNo"] != no {
					t.Errorf("goroutine %d: %+v, %v", g, res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestOnlyWhatIsReadIsDecoded(t *testing.T) {
	m := mustParse(t, linesMapping, Options{})
	doc, err := decodeDoc([]byte(`{"no": "A", "other": {"x": 1}, "lines": [{"sku": "X", "num": "1", "extra": [1, 2]}]}`), m.need)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"no": "A", "lines": []any{map[string]any{"sku": "X", "num": "1"}}}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("decoded %#v", doc)
	}
	// Skipped values are still checked.
	if _, err := decodeDoc([]byte(`{"no": "A", "other": {"x": 01}}`), m.need); err == nil {
		t.Error("invalid number in a skipped value was accepted")
	}
}

func unfuse(f *cfield) {
	f.fused, f.fusedIn, f.fusedWhere = nil, nil, nil
	for _, sub := range f.fields {
		unfuse(sub)
	}
}

// Fusing an object's fields into one run is only a speed-up: the bodies
// are the same field by field.
func TestFusedObjectsMatchFieldByField(t *testing.T) {
	for _, tt := range []struct{ source, target, doc string }{
		{"trade.query", "sal_order_save", "testdata/wdt_trade.json"},
		{"stockin.order.query.refund", "SAL_RETURNSTOCK", "testdata/wdt_stockin_refund.json"},
	} {
		raw, _ := os.ReadFile(tt.doc)
		fused := shipped(t, tt.source, tt.target, Options{})
		if fused.body.fused == nil {
			t.Errorf("%s: the body was not fused", tt.target)
		}
		plain := shipped(t, tt.source, tt.target, Options{})
		unfuse(plain.body)
		a, errA := fused.Apply(raw, nil)
		b, errB := plain.Apply(raw, nil)
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: fused %+v, %v\nfield by field %+v, %v", tt.target, a, errA, b, errB)
		}
	}
	// An expression that cannot sit inside a map literal is left unfused.
	m := mustParse(t, "bill_no: '\"B\"'\nbody:\n  a: let x = 1; x + 1\n  b: '\"y\"'\n", Options{})
	if got := bodyJSON(t, m, `{}`); got != `{"a":2,"b":"y"}` {
		t.Errorf("body = %s", got)
	}
}

// The mapping in the package documentation works as written.
func TestPackageDocMapping(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "materials.csv"), []byte("wdt,jdy\nSKU-RED-M,1001\n"), 0o644)
	text := `
source: trade.query
target: sal_order_save
vars:
  billsource: APP
when: doc.trade_status >= 95
bill_no: doc.trade_no
lookups:
  customers: {SHOP-A: C001}
  materials: materials.csv
body:
  billsource: vars.billsource
  billdate: date(doc.trade_time, "2006-01-02")
  billno: bill_no
  customerid_number: lookup("customers", doc.shop_no, doc.shop_no)
  remark:
    $if: (doc.cs_remark ?? "") != ""
    $value: doc.cs_remark
  material_entity:
    $each: doc.goods_list
    $where: dec(line.num) > 0
    materialid_number: lookup("materials", line.spec_no, line.spec_no)
    qty: qty(line.num)
    taxprice: money(dec(line.share_amount) / dec(line.num))
    is_free: string(dec(line.gift_type) != 0)
`
	path := filepath.Join(dir, "m.yaml")
	os.WriteFile(path, []byte(text), 0o644)
	m, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("testdata/wdt_trade.json")
	res, err := m.Apply(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.Body)
	for _, want := range []string{`"customerid_number":"C001"`, `"materialid_number":"1001"`, `"is_free":"true"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("body lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "remark") {
		t.Errorf("empty cs_remark was sent: %s", b)
	}
}

// A failure inside a nested object of a fused line is reported at its own
// path, once.
func TestFusedNestedFailureIsReportedOnce(t *testing.T) {
	m := mustParse(t, linesMapping, Options{})
	if m.body.fields[len(m.body.fields)-1].fused == nil {
		t.Fatal("the lines were not fused")
	}
	_, err := m.Apply([]byte(`{"no": "A", "lines": [{"num": "1"}]}`), nil)
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Fields) != 1 || ae.Fields[0].Field != "FEntity[0].FMaterialId.FNumber" ||
		ae.Fields[0].Value() != "line.sku = (missing)" {
		t.Errorf("err = %v", err)
	}
}

func TestFusedWhereFailureIsReported(t *testing.T) {
	m := mustParse(t, linesMapping, Options{})
	if m.body.fields[len(m.body.fields)-1].fusedWhere == nil {
		t.Fatal("$where was not fused")
	}
	_, err := m.Apply([]byte(`{"no": "A", "lines": [{"sku": "X", "num": "1"}, {"sku": "Y", "num": "many"}]}`), nil)
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Fields) != 1 || ae.Fields[0].Field != "FEntity[1].$where" ||
		ae.Fields[0].Value() != `line.num = "many"` {
		t.Errorf("err = %v", err)
	}
}
