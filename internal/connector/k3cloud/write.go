package k3cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"orderhub/internal/connector"
)

var _ connector.Writer = (*Client)(nil)

// writeAPI returns the registered API of a form.
func writeAPI(api string) (connector.WriteAPI, bool) {
	for _, a := range APIs {
		if a.Name == api {
			return a, true
		}
	}
	return connector.WriteAPI{}, false
}

// Write implements connector.Writer: one BatchSave of the bills, whose
// answer is split per packet by DIndex. A bill with an ID modifies that
// bill (FID set; the packet is the whole new version, so IsDeleteEntry
// drops entry rows it no longer has).
func (c *Client) Write(ctx context.Context, api string, bills []connector.Bill) ([]connector.WriteResult, error) {
	op := "BatchSave " + api
	a, ok := writeAPI(api)
	if !ok {
		return nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Message: "unknown API " + strconv.Quote(api),
			Hint: "金蝶云星空目标的 api 只能是 SAL_RETURNSTOCK（销售退货单）或 SAL_SaleOrder（销售订单）"}
	}
	if len(bills) > a.MaxBatch {
		return nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op,
			Message: fmt.Sprintf("%d bills in one call, at most %d", len(bills), a.MaxBatch), Hint: "把流程的批量大小调到 200 以内"}
	}
	results := make([]connector.WriteResult, len(bills))
	packets := make([]map[string]any, 0, len(bills))
	index := make([]int, 0, len(bills)) // packet → bill
	var updates []map[string]any
	for i, b := range bills {
		results[i].No = b.No
		p, err := c.packet(op, b)
		if err != nil {
			results[i].Err = err
			continue
		}
		packets = append(packets, p)
		index = append(index, i)
		if b.ID != "" {
			updates = append(updates, p)
		}
	}
	if len(packets) == 0 {
		return results, nil
	}
	data := SaveData{NeedReturnFields: []string{"FBillNo"}, IsDeleteEntry: true, IsAutoSubmitAndAudit: c.cfg.AutoAudit, Model: packets}
	if len(updates) > 0 {
		data.NeedUpDateFields = updateFields(updates)
	}
	body, err := json.Marshal(request{FormID: api, Data: data})
	if err != nil {
		return nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Err: err,
			Message: "a mapped bill cannot be encoded as JSON", Hint: "映射结果含有无法编码为 JSON 的值：检查映射"}
	}
	var sr SaveResult
	err = c.call(ctx, ServiceBatchSave, op, body, true, func(b []byte) (*ResponseStatus, error) {
		sr = SaveResult{}
		if err := json.Unmarshal(b, &sr); err != nil {
			return nil, err
		}
		if sr.Result.ResponseStatus == nil {
			return nil, fmt.Errorf("the answer has no Result.ResponseStatus")
		}
		return sr.Result.ResponseStatus, nil
	})
	if err != nil {
		return nil, err
	}
	st := sr.Result.ResponseStatus
	if ce := c.wholeCall(op, st); ce != nil {
		return nil, ce
	}
	done := make(map[int]SuccessEntity, len(st.SuccessEntitys))
	for _, e := range st.SuccessEntitys {
		done[e.DIndex] = e
	}
	refused := map[int][]ErrorItem{}
	for _, e := range st.Errors {
		refused[e.DIndex] = append(refused[e.DIndex], e)
	}
	for j, bi := range index {
		switch e, ok := done[j]; {
		case ok:
			results[bi].ID = string(e.ID)
		case len(refused[j]) > 0:
			results[bi] = c.refusal(op, bills[bi], packets[j], st.MsgCode, refused[j])
		default:
			results[bi].Err = &connector.CallError{Class: connector.Unknown, System: c.cfg.System, Op: op, Code: "MsgCode " + strconv.Itoa(st.MsgCode),
				Message: fmt.Sprintf("the answer says nothing of packet %d", j), Hint: "金蝶的回答没有这张单据的结果；系统会先核对单据是否已存在再重试"}
		}
	}
	return results, nil
}

// wholeCall turns the codes that are about the call, not a packet, into
// an error for the whole call.
func (c *Client) wholeCall(op string, st *ResponseStatus) *connector.CallError {
	if st.IsSuccess || len(st.SuccessEntitys) > 0 {
		return nil
	}
	if len(st.Errors) > 0 && st.Errors[0].Message == msgNoForm {
		return statusError(c.cfg.System, op, st, connector.Permanent, "金蝶没有这个业务对象（FormId）：该账套可能未启用销售管理模块，或表单标识不同")
	}
	switch st.MsgCode {
	case MsgNoPermission:
		return statusError(c.cfg.System, op, st, connector.Permanent, "金蝶用户没有该单据的权限：在金蝶中给 username 对应用户授予销售退货单/销售订单的新增、保存权限")
	case MsgLicence:
		return statusError(c.cfg.System, op, st, connector.Permanent, "金蝶许可不足或已过期：联系金蝶管理员检查许可")
	case MsgAdminForbidden:
		return statusError(c.cfg.System, op, st, connector.Permanent, "金蝶禁止该用户登录调用：换用非管理员的集成用户")
	case MsgException, MsgDBFailed:
		return statusError(c.cfg.System, op, st, connector.Unknown, "金蝶服务端异常，写入结果未知；系统会先核对单据是否已存在再重试")
	case MsgNetworkCtrl:
		return statusError(c.cfg.System, op, st, connector.Retry, "单据正被金蝶中的其他操作占用（网控冲突）；系统会稍后重试")
	}
	if len(st.Errors) == 0 {
		return statusError(c.cfg.System, op, st, connector.Unknown, "金蝶报告失败但没有给出原因；系统会先核对单据是否已存在再重试")
	}
	return nil
}

// packet is the Model element for one bill: the mapped body with the bill
// number, and FID for a modify.
func (c *Client) packet(op string, b connector.Bill) (map[string]any, *connector.CallError) {
	p := make(map[string]any, len(b.Body)+2)
	noKey := "FBillNo"
	for k, v := range b.Body {
		p[k] = v
		if strings.EqualFold(k, "FBillNo") {
			noKey = k
			if s, _ := v.(string); s != "" && s != b.No {
				return nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Field: "FBillNo",
					Message: fmt.Sprintf("the mapped FBillNo %q is not the bill number %q", s, b.No),
					Hint:    "映射出的 FBillNo 与单据号不一致：FBillNo 必须取源单据号，才能防止重复写入"}
			}
		}
		if strings.EqualFold(k, "FID") {
			delete(p, k)
		}
	}
	if b.No == "" {
		return nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Field: "FBillNo",
			Message: "the bill has no number", Hint: "单据号为空：金蝶会自动编号，重试时会生成第二张单据；检查映射的单据号"}
	}
	p[noKey] = b.No
	p["FID"] = 0
	if b.ID != "" {
		id, err := strconv.ParseInt(b.ID, 10, 64)
		if err != nil || id <= 0 {
			return nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Field: "FID",
				Message: fmt.Sprintf("bill id %q is not a 金蝶 FID", b.ID), Hint: "单据 id 不是金蝶的内码（正整数）：检查该单据记录的 id"}
		}
		p["FID"] = id
	}
	return p, nil
}

// updateFields lists the fields modifies change: every header field, the
// fields of sub-headers, and each entry entity with its row fields (the
// entity key itself must be named for its rows to change).
func updateFields(packets []map[string]any) []string {
	set := map[string]bool{}
	for _, p := range packets {
		for k, v := range p {
			if strings.EqualFold(k, "FID") {
				continue
			}
			switch v := v.(type) {
			case []any:
				set[k] = true
				for _, row := range v {
					if m, ok := row.(map[string]any); ok {
						for rk := range m {
							set[k+"."+rk] = true
						}
					}
				}
			case []map[string]any:
				set[k] = true
				for _, m := range v {
					for rk := range m {
						set[k+"."+rk] = true
					}
				}
			case map[string]any:
				if isRef(v) {
					set[k] = true
					continue
				}
				for sk := range v {
					set[sk] = true
				}
			default:
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// isRef reports whether an object is a base-data reference ({"FNumber": …}).
func isRef(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		switch strings.ToUpper(k) {
		case "FNUMBER", "FNAME", "FSTAFFNUMBER", "FUSERID", "FID":
			return true
		}
	}
	return false
}

// refLabels names the base-data fields a person fixes in 金蝶 or in a
// lookup table, and whether a lookup table usually maps them.
var refLabels = map[string]struct {
	label  string
	lookup bool
}{
	"FMATERIALID":     {"物料编码", true},
	"FRETCUSTID":      {"客户编码", true},
	"FCUSTID":         {"客户编码", true},
	"FRECEIVECUSTID":  {"客户编码", true},
	"FSETTLECUSTID":   {"客户编码", true},
	"FPAYCUSTID":      {"客户编码", true},
	"FSTOCKID":        {"仓库编码", true},
	"FSALEORGID":      {"销售组织编码", false},
	"FSTOCKORGID":     {"库存组织编码", false},
	"FSETTLEORGID":    {"结算组织编码", false},
	"FSETTLEORGIDS":   {"结算组织编码", false},
	"FOWNERID":        {"货主编码", false},
	"FBILLTYPEID":     {"单据类型编码", false},
	"FUNITID":         {"计量单位编码", false},
	"FPRICEUNITID":    {"计价单位编码", false},
	"FSALUNITID":      {"销售单位编码", false},
	"FSALERID":        {"销售员编码", false},
	"FSALESMANID":     {"销售员编码", false},
	"FSALEDEPTID":     {"销售部门编码", false},
	"FRETURNTYPE":     {"退货类型编码", false},
	"FSTOCKSTATUSID":  {"库存状态编码", false},
	"FSETTLECURRID":   {"结算币别编码", false},
	"FLOCALCURRID":    {"本位币编码", false},
	"FEXCHANGETYPEID": {"汇率类型编码", false},
}

var quotedValue = regexp.MustCompile(`值“([^”]*)”|\[([^\]]*)\]`)

// refusal turns the errors of one packet into its result.
func (c *Client) refusal(op string, b connector.Bill, packet map[string]any, msgCode int, errs []ErrorItem) connector.WriteResult {
	r := connector.WriteResult{No: b.No}
	for _, e := range errs {
		if strings.EqualFold(e.Field(), "FBillNo") && (strings.Contains(e.Message, "唯一") || strings.Contains(e.Message, "已经被使用")) {
			// The number is taken: a retry of a save whose answer was
			// lost. The flow confirms it with Find.
			r.Duplicate = true
			return r
		}
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	first := errs[0]
	ce := &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Code: "MsgCode " + strconv.Itoa(msgCode),
		Message: strings.Join(msgs, "；"), Field: first.Field()}
	ce.Hint = hint(b, packet, first)
	r.Err = ce
	return r
}

// hint says in Chinese what a person fixes for one refusal.
func hint(b connector.Bill, packet map[string]any, e ErrorItem) string {
	field := e.Field()
	short := field
	if i := strings.LastIndexByte(short, '.'); i >= 0 {
		short = short[i+1:]
	}
	msg := e.Message
	switch {
	case strings.Contains(msg, "审核中"):
		return fmt.Sprintf("单据 %s 在金蝶中已提交、正在审核，不能保存修改：在金蝶中撤销提交（或审核后再反审核）后重试；不需要更新就跳过此项", b.No)
	case strings.Contains(msg, "已经审核") || strings.Contains(msg, "已审核"):
		return fmt.Sprintf("单据 %s 在金蝶中已审核，不能再保存修改：如需更新，先在金蝶中反审核该单据后重试；不需要更新就跳过此项", b.No)
	case strings.EqualFold(field, "FID"):
		return fmt.Sprintf("要更新的单据 %s 在金蝶中已不存在（可能被删除）：确认后跳过此项，或清除该单据记录的 id 让它重新新增", b.No)
	case strings.Contains(msg, "元数据中标识为"):
		return fmt.Sprintf("金蝶的该表单没有字段 %s：从映射中去掉它，或改为表单模板里的字段标识，然后重试", field)
	case strings.Contains(msg, "不存在") || strings.Contains(msg, "未审核") || strings.Contains(msg, "禁用"):
		l, known := refLabels[strings.ToUpper(short)]
		if !known {
			break
		}
		v := valueOf(msg, packet, short)
		if l.lookup {
			return fmt.Sprintf("%s %s 在金蝶中不存在（或未审核、已禁用）：在金蝶新增（审核）该资料，或在流程的 lookup 表中把 %s 映射到金蝶已有的编码，然后重试", l.label, v, v)
		}
		return fmt.Sprintf("%s %s 在金蝶中不存在（或未审核、已禁用）：在流程的 vars 中改为金蝶里已有的编码，或在金蝶中新增它，然后重试", l.label, v)
	case strings.Contains(msg, "必填") || strings.Contains(msg, "必录") || strings.Contains(msg, "不能为空"):
		return fmt.Sprintf("金蝶要求字段 %s 必须有值：在映射中为它提供值（基础资料写成 {\"FNumber\": 编码}），然后重试", field)
	}
	if field != "" {
		return fmt.Sprintf("金蝶拒绝了单据 %s（字段 %s）：按金蝶的提示修改源数据、lookup 表或映射，然后重试", b.No, field)
	}
	return fmt.Sprintf("金蝶拒绝了单据 %s：按金蝶的提示修改源数据、lookup 表或映射，然后重试", b.No)
}

// valueOf finds the value a refusal is about: quoted in the message, or
// the field's numbers in the packet.
func valueOf(msg string, packet map[string]any, field string) string {
	if m := quotedValue.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			return m[1]
		}
		if m[2] != "" {
			return m[2]
		}
	}
	var vals []string
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			switch v := v.(type) {
			case map[string]any:
				if strings.EqualFold(k, field) {
					for rk, rv := range v {
						if strings.EqualFold(rk, "FNumber") {
							vals = append(vals, fmt.Sprint(rv))
						}
					}
				} else {
					walk(v)
				}
			case []any:
				for _, row := range v {
					if rm, ok := row.(map[string]any); ok {
						walk(rm)
					}
				}
			}
		}
	}
	walk(packet)
	sort.Strings(vals)
	return strings.Join(vals, "/")
}

// Find implements connector.Writer with ExecuteBillQuery on FBillNo.
//
// ExecuteBillQuery rather than View: its empty answer means "no such
// bill" and nothing else, while View answers a missing bill with
// IsSuccess false, the same shape as a refusal for permission or a bad
// FormId; and it returns two columns instead of the whole bill.
func (c *Client) Find(ctx context.Context, api, no string) (string, bool, error) {
	ids, err := c.FindMany(ctx, api, []string{no})
	if err != nil {
		return "", false, err
	}
	id, ok := ids[no]
	return id, ok, nil
}

// FindMany looks up several bill numbers in one query and returns the id
// of each one that exists.
func (c *Client) FindMany(ctx context.Context, api string, nos []string) (map[string]string, error) {
	op := "ExecuteBillQuery " + api
	if _, ok := writeAPI(api); !ok {
		return nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Message: "unknown API " + strconv.Quote(api),
			Hint: "金蝶云星空目标的 api 只能是 SAL_RETURNSTOCK（销售退货单）或 SAL_SaleOrder（销售订单）"}
	}
	out := make(map[string]string, len(nos))
	if len(nos) == 0 {
		return out, nil
	}
	var filter strings.Builder
	if len(nos) == 1 {
		filter.WriteString("FBillNo=" + sqlQuote(nos[0]))
	} else {
		filter.WriteString("FBillNo IN (")
		for i, no := range nos {
			if i > 0 {
				filter.WriteByte(',')
			}
			filter.WriteString(sqlQuote(no))
		}
		filter.WriteByte(')')
	}
	for start := 0; ; start += c.cfg.QueryLimit {
		q := QueryData{FormID: api, FieldKeys: "FID,FBillNo", FilterString: filter.String(), StartRow: start, Limit: c.cfg.QueryLimit}
		body, err := json.Marshal(request{Data: q})
		if err != nil {
			return nil, fmt.Errorf("k3cloud: encoding a query: %w", err)
		}
		var rows [][]json.RawMessage
		err = c.call(ctx, ServiceExecuteBillQuery, op, body, false, func(b []byte) (*ResponseStatus, error) {
			rows = nil
			return decodeQuery(b, &rows)
		})
		if err != nil {
			return nil, err
		}
		if st, _ := queryStatus(rows); st != nil {
			return nil, statusError(c.cfg.System, op, st, connector.Permanent, "金蝶拒绝了按单据号的查询：检查该用户对此表单的查询权限")
		}
		for _, row := range rows {
			if len(row) < 2 {
				return nil, &connector.CallError{Class: connector.Retry, System: c.cfg.System, Op: op, Message: fmt.Sprintf("a row of %d columns, want 2", len(row)),
					Hint: "金蝶查询结果的列数不对；系统会稍后重试"}
			}
			var id FlexString
			var no string
			if err := json.Unmarshal(row[0], &id); err != nil {
				return nil, &connector.CallError{Class: connector.Retry, System: c.cfg.System, Op: op, Message: string(row[0]), Err: err, Hint: "金蝶查询结果的 FID 无法解析；系统会稍后重试"}
			}
			if err := json.Unmarshal(row[1], &no); err != nil {
				return nil, &connector.CallError{Class: connector.Retry, System: c.cfg.System, Op: op, Message: string(row[1]), Err: err, Hint: "金蝶查询结果的 FBillNo 无法解析；系统会稍后重试"}
			}
			if _, seen := out[no]; !seen {
				out[no] = string(id)
			}
		}
		if len(rows) < c.cfg.QueryLimit {
			return out, nil
		}
	}
}

// decodeQuery reads an ExecuteBillQuery answer. Errors come wrapped as
// the first cell: [[{"Result":{"ResponseStatus":…}}]].
func decodeQuery(b []byte, rows *[][]json.RawMessage) (*ResponseStatus, error) {
	if err := json.Unmarshal(b, rows); err != nil {
		return nil, err
	}
	return queryStatus(*rows)
}

func queryStatus(rows [][]json.RawMessage) (*ResponseStatus, error) {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return nil, nil
	}
	cell := rows[0][0]
	if len(cell) == 0 || cell[0] != '{' {
		return nil, nil
	}
	var w SaveResult
	if err := json.Unmarshal(cell, &w); err != nil {
		return nil, err
	}
	if w.Result.ResponseStatus == nil {
		return nil, fmt.Errorf("a query row starts with an object that is no status: %s", snippet(cell))
	}
	return w.Result.ResponseStatus, nil
}

// sqlQuote quotes a value for FilterString.
func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
