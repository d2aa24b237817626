// Package jdy connects 金蝶云星辰 (JDY) through the Kingdee API gateway
// (api.kingdee.com) and holds Sim, a strict local stand-in for both.
//
// # Calls
//
// Every call carries the six gateway headers (X-Api-ClientID,
// X-Api-Auth-Version 2.0, X-Api-TimeStamp in ms, a random X-Api-Nonce,
// X-Api-SignHeaders, X-Api-Signature) signed with the developer app's
// client_secret over the method, the encoded path, the sorted query with
// values encoded twice, the nonce and the timestamp, each line ending in a
// newline. The app-token comes from GET
// /jdyconnector/app_management/kingdee_auth_token with app_key and
// app_signature; it is kept until ten minutes before its 24 hours end,
// fetched once for all concurrent callers, and fetched again once when a
// business call refuses it. Business calls add app-token and
// X-GW-Router-Addr, the domain the token answer named.
//
// # Writing sales orders
//
// The write API sal_order_save (POST /jdy/sal/sal_order_save) takes one
// bill a call. The client puts the bill's number in billno and its ID, when
// set, in id (which modifies that bill). Find looks a bill up with the V2
// list (GET /jdy/v2/scm/sal_order?search=<no>) and counts only an exact
// number match. Answers are read in both shapes seen:
// errcode/description/data.ids and success/message/data.successPkIds.
//
// # The smallest body the simulator accepts
//
//	{"billdate": "2024-11-11", "billno": "JY24111100013",
//	 "customerid_number": "SHOP-A",
//	 "material_entity": [{"materialid_number": "SKU-RED-M", "qty": "1"}]}
//
// billdate is yyyy-MM-dd; the customer is customerid_number or
// customerid_id; every line has materialid_number or materialid_id and a
// qty above 0 (a decimal string or a number). Optional and checked when
// present: stockid_number/stockid_id (must exist), unit_id (must be a unit
// of the line's material; without it the material's base unit is used),
// taxprice and price (decimals ≥ 0), is_free ("true"/"false", or a JSON
// boolean), id (an
// existing bill: modify it). Other keys (billsource, remark, custom_field_…)
// are kept as sent. testdata/ holds this body and seed 001's full one.
package jdy
