package k3cloud

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RefKind is a kind of base data (基础资料) a bill refers to by number.
type RefKind uint8

// The base data the simulator resolves references against.
const (
	refNone RefKind = iota
	// RefAny accepts any number: assistant data the simulator does not
	// seed (lots, return reasons, receipt conditions).
	RefAny
	RefMaterial
	RefCustomer
	RefStock
	RefOrg
	RefUnit
	RefStaff
	RefDept
	RefBillType
	RefReturnType
	RefStockStatus
	RefCurrency
	RefExchangeType
	RefTransferBiz
	refKinds
)

type fieldKind uint8

const (
	fText fieldKind = iota
	fNumber
	fDate
	fBool
	fRef
	fOwnerType // "BD_OwnerOrg" and its siblings: a plain string naming a form
	fSub       // a sub-header object whose fields belong to the header
	fEntry     // an entry entity: an array of rows
	fAny       // accepted as is (link tables)
)

type fieldSpec struct {
	key      string
	label    string
	kind     fieldKind
	ref      RefKind
	required bool
	sub      *entitySpec
}

// entitySpec is the fields of a header, sub-header or entry, by key and
// by upper-cased key: the server matches field keys regardless of case.
type entitySpec struct {
	label  string
	fields []*fieldSpec
	exact  map[string]*fieldSpec
	upper  map[string]*fieldSpec
}

func entity(label string, fields ...*fieldSpec) *entitySpec {
	e := &entitySpec{label: label, fields: fields, exact: map[string]*fieldSpec{}, upper: map[string]*fieldSpec{}}
	for _, f := range fields {
		e.exact[f.key] = f
		e.upper[strings.ToUpper(f.key)] = f
	}
	return e
}

func (e *entitySpec) lookup(k string) *fieldSpec {
	if f, ok := e.exact[k]; ok {
		return f
	}
	return e.upper[strings.ToUpper(k)]
}

func text(key, label string) *fieldSpec { return &fieldSpec{key: key, label: label, kind: fText} }
func num(key, label string) *fieldSpec  { return &fieldSpec{key: key, label: label, kind: fNumber} }
func date(key, label string) *fieldSpec { return &fieldSpec{key: key, label: label, kind: fDate} }
func flag(key, label string) *fieldSpec { return &fieldSpec{key: key, label: label, kind: fBool} }
func ref(key, label string, k RefKind) *fieldSpec {
	return &fieldSpec{key: key, label: label, kind: fRef, ref: k}
}
func owner(key, label string) *fieldSpec { return &fieldSpec{key: key, label: label, kind: fOwnerType} }
func anyField(key, label string) *fieldSpec {
	return &fieldSpec{key: key, label: label, kind: fAny}
}
func sub(key, label string, e *entitySpec) *fieldSpec {
	return &fieldSpec{key: key, label: label, kind: fSub, sub: e}
}
func rows(key, label string, e *entitySpec) *fieldSpec {
	return &fieldSpec{key: key, label: label, kind: fEntry, sub: e}
}
func req(f *fieldSpec) *fieldSpec { f.required = true; return f }

// formSpec is one business object the simulator knows.
type formSpec struct {
	id, name string
	header   *entitySpec
	entry    *fieldSpec // the entry entity, required non-empty
	qty      string     // the entry's quantity field, which must be > 0
	// billTypes are the bill type numbers valid for this form.
	billTypes []string
}

// The fields are those erp.md 2.4 lists for each form (the required ones
// marked as the doc marks them; fields that the real server fills by
// default are optional here too), plus those integrations commonly send.
var forms = map[string]*formSpec{
	FormReturnStock: {
		id: FormReturnStock, name: "销售退货单", qty: "FRealQty",
		billTypes: []string{"XSTHD01_SYS", "XSTHD06_SYS"},
		header: entity("单据头",
			num("FID", "实体主键"), text("FBillNo", "单据编号"),
			req(ref("FBillTypeID", "单据类型", RefBillType)), req(date("FDate", "日期")),
			req(ref("FSaleOrgId", "销售组织", RefOrg)), req(ref("FStockOrgId", "库存组织", RefOrg)),
			req(ref("FRetcustId", "退货客户", RefCustomer)),
			ref("FReturnReason", "退货原因", RefAny), ref("FSalesManId", "销售员", RefStaff),
			ref("FSaledeptid", "销售部门", RefDept), ref("FTransferBizType", "跨组织业务类型", RefTransferBiz),
			ref("FReceiveCustId", "收货方", RefCustomer), ref("FSettleCustId", "结算方", RefCustomer),
			ref("FPayCustId", "付款方", RefCustomer), owner("FOwnerTypeIdHead", "货主类型"),
			ref("FOwnerIdHead", "货主", RefOrg), text("FHeadNote", "备注"),
			sub("SubHeadEntity", "财务信息", entity("财务信息",
				ref("FSettleCurrId", "结算币别", RefCurrency), ref("FSettleOrgId", "结算组织", RefOrg),
				ref("FLocalCurrId", "本位币", RefCurrency), ref("FExchangeTypeId", "汇率类型", RefExchangeType),
				num("FExchangeRate", "汇率"), ref("FSettleTypeId", "结算方式", RefAny),
				flag("FIsIncludedTax", "是否含税"), flag("FIsPriceExcludeTax", "价外税"))),
			rows("FEntity", "明细信息", entity("明细信息",
				num("FEntryID", "分录主键"), req(ref("FMaterialId", "物料编码", RefMaterial)),
				ref("FUnitID", "库存单位", RefUnit), req(num("FRealQty", "实退数量")),
				num("FTaxPrice", "含税单价"), num("FPrice", "单价"), num("FEntryTaxRate", "税率%"),
				num("FAllAmount", "价税合计"), num("FAmount", "金额"), num("FDiscountRate", "折扣率%"),
				flag("FIsFree", "是否赠品"), ref("FReturnType", "退货类型", RefReturnType),
				req(ref("FStockId", "仓库", RefStock)), ref("FStockstatusId", "库存状态", RefStockStatus),
				owner("FOwnerTypeId", "货主类型"), ref("FOwnerId", "货主", RefOrg),
				date("FDeliveryDate", "退货日期"), ref("FLot", "批号", RefAny), text("FNote", "备注"),
				ref("FSalUnitID", "销售单位", RefUnit), num("FSalUnitQty", "销售数量"),
				num("FSalBaseQty", "销售基本数量"), num("FPriceBaseQty", "计价基本数量"),
				ref("FPriceUnitId", "计价单位", RefUnit), text("FSrcBillTypeID", "源单类型"),
				text("FSrcBillNo", "源单编号"), num("FSOEntryId", "销售订单分录内码"),
				text("FOrderNo", "订单单号"), anyField("FEntity_Link", "关联关系"))),
		),
	},
	FormSaleOrder: {
		id: FormSaleOrder, name: "销售订单", qty: "FQty",
		billTypes: []string{"XSDD01_SYS"},
		header: entity("单据头",
			num("FID", "实体主键"), text("FBillNo", "单据编号"),
			req(ref("FBillTypeID", "单据类型", RefBillType)), req(date("FDate", "日期")),
			req(ref("FSaleOrgId", "销售组织", RefOrg)), req(ref("FCustId", "客户", RefCustomer)),
			req(ref("FSalerId", "销售员", RefStaff)), ref("FSaleDeptId", "销售部门", RefDept),
			ref("FReceiveId", "收货方", RefCustomer), ref("FSettleId", "结算方", RefCustomer),
			ref("FChargeId", "付款方", RefCustomer), text("FNote", "备注"),
			req(sub("FSaleOrderFinance", "财务信息", entity("财务信息",
				req(ref("FSettleCurrId", "结算币别", RefCurrency)), flag("FIsIncludedTax", "是否含税"),
				flag("FIsPriceExcludeTax", "价外税"), ref("FExchangeTypeId", "汇率类型", RefExchangeType),
				num("FExchangeRate", "汇率"), ref("FRecConditionId", "收款条件", RefAny),
				ref("FSettleModeId", "结算方式", RefAny)))),
			rows("FSaleOrderEntry", "订单明细", entity("订单明细",
				num("FEntryID", "分录主键"), text("FRowType", "产品类型"),
				req(ref("FMaterialId", "物料编码", RefMaterial)), req(ref("FUnitID", "销售单位", RefUnit)),
				req(ref("FPriceUnitId", "计价单位", RefUnit)), req(num("FQty", "销售数量")),
				num("FPrice", "单价"), num("FTaxPrice", "含税单价"), num("FEntryTaxRate", "税率%"),
				num("FAllAmount", "价税合计"), num("FAmount", "金额"), num("FDiscountRate", "折扣率%"),
				flag("FIsFree", "是否赠品"), req(date("FDeliveryDate", "要货日期")),
				req(ref("FSettleOrgIds", "结算组织", RefOrg)), ref("FStockOrgId", "库存组织", RefOrg),
				ref("FStockUnitID", "库存单位", RefUnit), text("FReserveType", "预留类型"),
				text("FOUTLMTUNIT", "超发控制单位"), text("FEntryNote", "备注"),
				ref("FOwnerId", "货主", RefOrg), owner("FOwnerTypeId", "货主类型"))),
			anyField("FSaleOrderPlan", "收款计划"),
		),
	},
}

func init() {
	for _, f := range forms {
		for _, fs := range f.header.fields {
			if fs.kind == fEntry {
				f.entry = fs
				fs.required = true
			}
		}
	}
}

var ownerTypes = map[string]bool{"BD_OwnerOrg": true, "BD_Supplier": true, "BD_Customer": true}

// problem is one validation error of a packet.
type problem struct {
	code    int
	field   string
	message string
}

// validator checks one packet against a form and the seeded master data.
type validator struct {
	form    *formSpec
	known   func(RefKind, string) bool
	out     []problem
	partial bool // a modify: fields it leaves out keep their values
}

func (v *validator) add(code int, field, format string, args ...any) {
	v.out = append(v.out, problem{code: code, field: field, message: fmt.Sprintf(format, args...)})
}

// entity checks the fields of one header, sub-header or row. where
// prefixes messages about entry rows ("第2行分录，").
func (v *validator) entity(e *entitySpec, m map[string]any, where string) {
	for k, val := range m {
		f := e.lookup(k)
		if f == nil {
			v.add(MsgNotExist, k, "元数据中标识为%s的字段不存在", k)
			continue
		}
		v.value(f, val, where)
	}
	if v.partial {
		return
	}
	for _, f := range e.fields {
		if !f.required {
			continue
		}
		if val, ok := getCI(m, f.key); !ok || empty(val) {
			v.add(MsgValidation, f.key, "%s字段“%s”是必填项", where, f.label)
		}
	}
}

func (v *validator) value(f *fieldSpec, val any, where string) {
	if val == nil {
		return
	}
	switch f.kind {
	case fText:
		switch val.(type) {
		case string, json.Number, float64:
		default:
			v.add(MsgParameter, f.key, "%s字段“%s”的值应为文本", where, f.label)
		}
	case fNumber:
		if _, ok := number(val); !ok {
			v.add(MsgParameter, f.key, "%s字段“%s”的值“%v”不是有效的数值", where, f.label, val)
		}
	case fDate:
		s, _ := val.(string)
		if _, ok := parseDate(s); !ok {
			v.add(MsgParameter, f.key, "%s字段“%s”的值“%v”不是有效的日期", where, f.label, val)
		}
	case fBool:
		if _, ok := boolean(val); !ok {
			v.add(MsgParameter, f.key, "%s字段“%s”的值“%v”应为 true 或 false", where, f.label, val)
		}
	case fOwnerType:
		if s, _ := val.(string); !ownerTypes[s] {
			v.add(MsgNotExist, f.key, "%s字段“%s”的值“%v”不存在，应为 BD_OwnerOrg、BD_Supplier 或 BD_Customer", where, f.label, val)
		}
	case fRef:
		m, ok := val.(map[string]any)
		no, found := "", false
		if ok {
			for k, x := range m {
				if strings.EqualFold(k, "FNumber") {
					no, found = text2(x)
				}
			}
		}
		switch {
		case !ok || !found:
			v.add(MsgParameter, f.key, "%s字段“%s”是基础资料，值应写成 {\"FNumber\": 编码}，收到 %s", where, f.label, compact(val))
		case no == "":
			if f.required && !v.partial {
				v.add(MsgValidation, f.key, "%s字段“%s”是必填项", where, f.label)
			}
		case f.ref == RefBillType:
			if !contains(v.form.billTypes, no) {
				v.add(MsgNotExist, f.key, "%s字段“%s”的值“%s”在系统中不存在或未审核", where, f.label, no)
			}
		case f.ref != RefAny && !v.known(f.ref, no):
			v.add(MsgNotExist, f.key, "%s字段“%s”的值“%s”在系统中不存在或未审核", where, f.label, no)
		}
	case fSub:
		m, ok := val.(map[string]any)
		if !ok {
			v.add(MsgParameter, f.key, "“%s”(%s)应为对象", f.label, f.key)
			return
		}
		v.entity(f.sub, m, where)
	case fEntry:
		list, ok := val.([]any)
		if !ok {
			v.add(MsgParameter, f.key, "单据体“%s”(%s)应为数组", f.label, f.key)
			return
		}
		if len(list) == 0 && !v.partial {
			v.add(MsgValidation, f.key, "单据体“%s”至少需要一行分录", f.label)
		}
		for i, r := range list {
			row, ok := r.(map[string]any)
			at := "第" + strconv.Itoa(i+1) + "行分录，"
			if !ok {
				v.add(MsgParameter, f.key, "%s分录应为对象", at)
				continue
			}
			v.entity(f.sub, row, at)
			if q, ok := getCI(row, v.form.qty); ok {
				if n, ok := number(q); ok && n <= 0 {
					qf := f.sub.lookup(v.form.qty)
					v.add(MsgValidation, qf.key, "%s“%s”必须大于0", at, qf.label)
				}
			}
		}
	}
}

// getCI returns the value of key in m, matching the key regardless of case.
func getCI(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// number reads a JSON number or a numeric string: the server takes both.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// boolean reads true/false or "true"/"false": the doc templates quote them.
func boolean(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func text2(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case json.Number:
		return v.String(), true
	case nil:
		return "", true
	}
	return "", false
}

var dateLayouts = []string{"2006-01-02 15:04:05", "2006-01-02", "2006-01-02T15:04:05", time.RFC3339}

func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
