// Package k3cloud writes bills into 金蝶云星空 (K3Cloud) through its Web API,
// and holds a simulator of that API for tests, the demo and the benchmarks.
//
// # Client
//
// A system of kind k3cloud (base_url, acct_id, username, password or
// app_id + app_secret, lcid) becomes a *Client, a connector.Writer for the
// APIs SAL_RETURNSTOCK (销售退货单) and SAL_SaleOrder (销售订单). The client
// logs in once (ValidateUser, or LoginByAppSecret) and sends the session id
// as the kdservice-sessionid cookie; when the server answers MsgCode 1
// (会话信息已丢失) it logs in again, once for all concurrent callers, and
// sends that call once more. With auth: signed_headers it signs every call
// with the third-party authorisation headers instead (erp.md 2.3).
//
// Write sends one BatchSave whose Model holds one packet per bill: the
// mapped Bill.Body with FBillNo set to Bill.No, FID 0 for a new bill and
// FID = Bill.ID for a modify (then NeedUpDateFields lists the packet's
// fields and IsDeleteEntry drops entry rows the new version no longer
// has). The answer is split by DIndex: SuccessEntitys give the bill's id;
// the uniqueness error on FBillNo (MsgCode 11, 编码唯一) sets Duplicate;
// every other error is a Permanent refusal with 金蝶's message, the field it
// names and a Chinese hint. Find looks a number up with ExecuteBillQuery.
//
// # Simulator
//
// Sim answers the same services as a real site. The smallest
// SAL_RETURNSTOCK packet it saves (testdata/sal_returnstock_seed003.json is
// one, built from seed 003's fields):
//
//	{"FBillNo": "RK2411110001",                      // set by the client from Bill.No
//	 "FBillTypeID": {"FNUMBER": "XSTHD01_SYS"},       // or XSTHD06_SYS
//	 "FDate": "2024-11-12 14:00:00",                  // or "2024-11-12"
//	 "FSaleOrgId": {"FNumber": "100"}, "FStockOrgId": {"FNumber": "100"},
//	 "FRetcustId": {"FNumber": "SHOP-A"},             // a seeded customer
//	 "FEntity": [{"FMaterialId": {"FNumber": "SKU-RED-M"},  // a seeded material
//	              "FRealQty": "1",                    // > 0; number or numeric string
//	              "FStockId": {"FNumber": "WH-1"}}]}   // a seeded stock
//
// Optional fields are those of erp.md 2.4 (FHeadNote, SubHeadEntity with
// FSettleOrgId/FSettleCurrId/…, entry FTaxPrice, FPrice, FEntryTaxRate,
// FIsFree, FReturnType, FStockstatusId, FUnitID, FOwnerTypeId, FNote, …);
// any other key is refused with MsgCode 9 "元数据中标识为X的字段不存在", as is
// a base-data value the simulator was not seeded with.
package k3cloud
