package mapping_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"orderhub/internal/mapping"
)

// A mapping from a 旺店通 trade to a 星辰 sales order, with a lookup table
// and one request line per goods line.
func Example() {
	m, err := mapping.Parse("trade.yaml", []byte(`
vars:
  billsource: APP
bill_no: doc.trade_no
lookups:
  materials: {SKU-RED-M: "1001"}
body:
  billsource: vars.billsource
  billdate: date(doc.trade_time, "2006-01-02")
  billno: bill_no
  material_entity:
    $each: doc.goods_list
    $where: dec(line.num) > 0
    materialid_number: lookup("materials", line.spec_no, line.spec_no)
    qty: qty(line.num)
    taxprice: money(dec(line.share_amount) / dec(line.num))
    is_free: string(line.gift_type != 0)
`), mapping.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := m.Apply([]byte(`{"trade_no": "JY24111100012", "trade_time": "2024-11-11 09:12:03",
		"goods_list": [
			{"spec_no": "SKU-RED-M", "num": "1.0000", "share_amount": "179.0000", "gift_type": 0},
			{"spec_no": "SKU-BLU-L", "num": "3.0000", "share_amount": "218.0000", "gift_type": 0},
			{"spec_no": "GIFT-01", "num": "0.0000", "share_amount": "0.0000", "gift_type": 1}]}`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := json.MarshalIndent(res.Body, "", "  ")
	fmt.Println(res.BillNo)
	fmt.Println(string(body))
	// Output:
	// JY24111100012
	// {
	//   "billdate": "2024-11-11",
	//   "billno": "JY24111100012",
	//   "billsource": "APP",
	//   "material_entity": [
	//     {
	//       "is_free": "false",
	//       "materialid_number": "1001",
	//       "qty": "1",
	//       "taxprice": "179.00"
	//     },
	//     {
	//       "is_free": "false",
	//       "materialid_number": "SKU-BLU-L",
	//       "qty": "3",
	//       "taxprice": "72.67"
	//     }
	//   ]
	// }
}

// Every field that fails is reported with its target path, its expression
// and the document values it read, so a preview can show them all at once.
func ExampleApplyError() {
	m, _ := mapping.Parse("trade.yaml", []byte(`
bill_no: doc.trade_no
body:
  billdate: date(doc.trade_time, "2006-01-02")
  material_entity:
    $each: doc.goods_list
    qty: qty(line.num)
`), mapping.Options{})
	_, err := m.Apply([]byte(`{"trade_no": "JY1", "trade_time": "0000-00-00 00:00:00",
		"goods_list": [{"num": "1"}, {"num": "one"}]}`), nil)
	var ae *mapping.ApplyError
	if errors.As(err, &ae) {
		for _, f := range ae.Fields {
			fmt.Printf("%s\n  %s\n  %s\n  %s\n", f.Field, f.Expr, f.Value(), f.Msg)
		}
	}
	// Output:
	// billdate
	//   date(doc.trade_time, "2006-01-02")
	//   doc.trade_time = "0000-00-00 00:00:00"
	//   "0000-00-00 00:00:00" is the source's way of saying the time was never set
	// material_entity[1].qty
	//   qty(line.num)
	//   line.num = "one"
	//   "one" is not a decimal number
}

// Problems found while loading are reported at file:line:col.
func ExampleParse_problems() {
	_, err := mapping.Parse("trade.yaml", []byte(`
body:
  billdate: date(doc.trade_time, "yyyy-MM-dd")
  FOwnerTypeId: BD_OwnerOrg
`), mapping.Options{})
	fmt.Println(err)
	// Output:
	// trade.yaml:3:34: body.billdate: the layout "yyyy-MM-dd" looks like a Java pattern (write the layout with Go's reference time: "2006-01-02" for yyyy-MM-dd, "2006-01-02 15:04:05" for yyyy-MM-dd HH:mm:ss)
	// trade.yaml:4:17: body.FOwnerTypeId: unknown name BD_OwnerOrg (the names are doc, order, vars, bill_no and the helpers dec, round, money, fixed, qty, num, date, lookup, has; to write the text BD_OwnerOrg, quote it: '"BD_OwnerOrg"')
}
