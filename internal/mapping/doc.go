// Package mapping is orderhub's mapping and condition language: files of
// expr-lang/expr expressions that turn one source document (a 旺店通 trade, a
// return stock-in) into one target request (a 金蝶 bill), compiled once when
// the config is loaded and run for every document.
//
// # The file
//
//	source: trade.query            # optional: the source API it is written for
//	target: sal_order_save         # optional: the target API
//	vars:                          # per-flow settings; a flow's vars: override these defaults
//	  billsource: APP
//	when: doc.trade_status >= 95   # optional: only these documents are written
//	bill_no: doc.trade_no          # the bill number; default order.order_no (the source key)
//	lookups:
//	  customers: {SHOP-A: C001}    # inline entries
//	  materials: materials.csv     # a CSV file beside the mapping: a header row, then key,value rows
//	body:                          # the request
//	  billsource: vars.billsource
//	  billdate: date(doc.trade_time, "2006-01-02")
//	  billno: bill_no
//	  customerid_number: lookup("customers", doc.shop_no, doc.shop_no)
//	  remark:
//	    $if: (doc.cs_remark ?? "") != ""
//	    $value: doc.cs_remark
//	  material_entity:
//	    $each: doc.goods_list
//	    $where: dec(line.num) > 0
//	    materialid_number: lookup("materials", line.spec_no, line.spec_no)
//	    qty: qty(line.num)
//	    taxprice: money(dec(line.share_amount) / dec(line.num))
//	    is_free: string(dec(line.gift_type) != 0)
//
// Under body:, every text value is an expression, so fixed text is quoted
// inside it ('"APP"'); YAML numbers and booleans are sent as written (a
// number as a JSON number with its digits, never through a float). A YAML
// map is a nested object (K3's {"FNumber": …} references, SubHeadEntity); a
// YAML list is a list. Keys starting with $ are directives:
//
//   - $each: a list expression; the object becomes a list with one element
//     per element of it, where line is the current element
//   - $where: beside $each, which elements are kept
//   - $if: the field or object is left out unless it is true
//   - $value: the field's value, beside $if
//
// # What an expression sees
//
//   - doc: the source document, decoded from its raw JSON (whole numbers are
//     ints, fractions exact decimals, never floats)
//   - order: the hub's canonical order as the read API shows it (OrderMap)
//   - vars: the vars in effect
//   - bill_no: the bill number, in body fields
//   - line: the current element, inside $each
//
// and expr's own operators and builtins (?? for a default, ?: and if/else,
// string(), upper(), …; now() is disabled because a retried bill must come
// out the same), plus these helpers:
//
//	dec(v)                      an exact decimal from "179.0000", 3, …; + - * / and comparisons on it stay exact
//	round(v, places)            a decimal rounded half away from zero (四舍五入)
//	money(v)                    text with two decimals: "179.00"
//	fixed(v, places)            text with exactly places decimals
//	qty(v)                      text with as many decimals as needed: "1", "1.5"
//	num(v), num(v, places)      the same as a JSON number
//	date(v, layout)             a time formatted with a Go layout ("2006-01-02"); 旺店通's
//	                            "yyyy-MM-dd HH:mm:ss" text is read in the flow's zone
//	lookup(table, key)          the table's entry; a field error when there is none
//	lookup(table, key, default) the entry, or default when there is none
//	has(table, key)             whether the table has an entry
//
// A decimal or a float reaching the body is an error: it must be formatted
// by one of the helpers, so every amount is rounded once, where the mapping
// says.
//
// # Errors
//
// Load and Parse report every problem of a file (YAML, unknown names and
// functions, wrong argument types, unknown vars or lookup tables, Java-style
// date layouts) as Problems at file:line:col. Apply evaluates every field
// and reports every one that failed in an *ApplyError: the target path
// (material_entity[2].qty), the expression and where it is written, the
// document values it read (line.num = "abc") and what went wrong.
//
// Shipped returns the mappings orderhub ships for its built-in flows.
package mapping
