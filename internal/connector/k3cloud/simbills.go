package k3cloud

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"orderhub/internal/connector/simfault"
)

// save answers Save (Model an object) and BatchSave (Model an array):
// each packet is validated on its own, then all valid ones are stored
// under one short lock, and the answer lists successes and errors by
// DIndex.
func (s *Sim) save(w http.ResponseWriter, r *http.Request, b *body, set simfault.Set) {
	service := ServiceBatchSave
	if strings.HasSuffix(r.URL.Path, "DynamicFormService.Save"+ServiceSuffix) {
		service = ServiceSave
	}
	formID, data, err := b.business()
	if err != nil {
		s.fail(w, service, MsgParameter, "", err.Error())
		return
	}
	form := forms[formID]
	if form == nil {
		s.fail(w, service, MsgOK, "", msgNoForm)
		return
	}
	rawModel, _ := getCI(data, "Model")
	var packets []map[string]any
	switch m := rawModel.(type) {
	case map[string]any:
		if service == ServiceBatchSave {
			s.fail(w, service, MsgParameter, "Model", "BatchSave 的 Model 应为数组")
			return
		}
		packets = []map[string]any{m}
	case []any:
		if service == ServiceSave {
			s.fail(w, service, MsgParameter, "Model", "Save 的 Model 应为对象；多张单据请用 BatchSave")
			return
		}
		for _, p := range m {
			pm, ok := p.(map[string]any)
			if !ok {
				s.fail(w, service, MsgParameter, "Model", "Model 的每一项应为单据对象")
				return
			}
			packets = append(packets, pm)
		}
	default:
		s.fail(w, service, MsgParameter, "Model", "缺少 Model 参数")
		return
	}
	if len(packets) == 0 {
		s.fail(w, service, MsgParameter, "Model", "Model 为空")
		return
	}
	audit := false
	if v, ok := getCI(data, "IsAutoSubmitAndAudit"); ok {
		audit, _ = boolean(v)
	}
	deleteEntry := true
	if v, ok := getCI(data, "IsDeleteEntry"); ok {
		if d, ok := boolean(v); ok {
			deleteEntry = d
		}
	}
	wantNo := false
	if v, ok := getCI(data, "NeedReturnFields"); ok {
		if list, ok := v.([]any); ok {
			for _, f := range list {
				if str, _ := f.(string); strings.EqualFold(str, "FBillNo") {
					wantNo = true
				}
			}
		}
	}

	// Validate outside the bills lock; base data is read under its own.
	probs := make([][]problem, len(packets))
	fids := make([]int64, len(packets))
	s.masterMu.RLock()
	for i, p := range packets {
		if v, ok := getCI(p, "FID"); ok {
			if n, ok := number(v); ok {
				fids[i] = int64(n)
			}
		}
		v := validator{form: form, known: s.known, partial: fids[i] > 0}
		v.entity(form.header, p, "")
		probs[i] = v.out
	}
	s.masterMu.RUnlock()

	st := &ResponseStatus{IsSuccess: true, Errors: []ErrorItem{}, SuccessEntitys: []SuccessEntity{}, SuccessMessages: []any{}}
	var returned []any
	s.billsMu.Lock()
	fs := s.bills[formID]
	for i, p := range packets {
		var id int64
		var no string
		if len(probs[i]) == 0 {
			id, no, probs[i] = s.store(form, fs, p, fids[i], audit, deleteEntry)
		}
		if len(probs[i]) > 0 {
			for _, pr := range probs[i] {
				e := ErrorItem{Message: pr.message, DIndex: i}
				if pr.field != "" {
					e.FieldName = strPtr(pr.field)
				}
				st.Errors = append(st.Errors, e)
				if st.IsSuccess {
					st.IsSuccess, st.ErrorCode, st.MsgCode = false, 500, pr.code
				}
			}
			continue
		}
		st.SuccessEntitys = append(st.SuccessEntitys, SuccessEntity{ID: FlexString(strconv.FormatInt(id, 10)), Number: no, DIndex: i})
		if wantNo {
			returned = append(returned, map[string]any{"FBillNo": no})
		}
	}
	s.billsMu.Unlock()

	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	res := map[string]any{"ResponseStatus": st}
	if service == ServiceSave && len(st.SuccessEntitys) == 1 {
		res["Id"], res["Number"] = st.SuccessEntitys[0].ID, st.SuccessEntitys[0].Number
	}
	if returned != nil {
		res["NeedReturnData"] = returned
	}
	writeJSON(w, map[string]any{"Result": res})
}

// store saves one valid packet and returns the bill's id and number; it
// runs under billsMu.
func (s *Sim) store(form *formSpec, fs *formStore, p map[string]any, fid int64, audit, deleteEntry bool) (int64, string, []problem) {
	noKey, no := "FBillNo", ""
	for k, v := range p {
		if strings.EqualFold(k, "FBillNo") {
			noKey = k
			no, _ = text2(v)
		}
	}
	if fid > 0 {
		old := fs.byID[fid]
		if old == nil {
			return 0, "", []problem{{MsgNoData, "FID", fmt.Sprintf("单据内码为%d的%s不存在或已被删除", fid, form.name)}}
		}
		switch old.status {
		case "C":
			return 0, "", []problem{{MsgValidation, "", fmt.Sprintf("单据编号为“%s”的%s，单据已经审核，不能修改！", old.no, form.name)}}
		case "B":
			return 0, "", []problem{{MsgValidation, "", fmt.Sprintf("单据编号为“%s”的%s，单据正在审核中，不能修改！", old.no, form.name)}}
		}
		if no != "" && no != old.no && len(fs.byNo[no]) > 0 && !s.cfg.AllowDuplicateNumbers {
			return 0, "", []problem{dupProblem(no)}
		}
		merged := maps.Clone(old.model)
		for k, v := range p {
			if k == form.entry.key || strings.EqualFold(k, form.entry.key) {
				if !deleteEntry {
					prev, _ := getCI(merged, form.entry.key)
					pl, _ := prev.([]any)
					nl, _ := v.([]any)
					v = append(append([]any{}, pl...), nl...)
				}
				delete(merged, k)
				merged[form.entry.key] = v
				continue
			}
			merged[k] = v
		}
		v := validator{form: form, known: func(RefKind, string) bool { return true }}
		v.entity(form.header, merged, "")
		if len(v.out) > 0 {
			return 0, "", v.out
		}
		if no == "" {
			no = old.no
		}
		if no != old.no {
			fs.byNo[old.no] = without(fs.byNo[old.no], old)
			if len(fs.byNo[old.no]) == 0 {
				delete(fs.byNo, old.no)
			}
			fs.byNo[no] = append(fs.byNo[no], old)
		}
		merged[noKey], merged["FID"] = no, fid
		old.no, old.model = no, merged
		if audit {
			old.status = "C"
		} else if old.status == "D" {
			old.status = "A"
		}
		return fid, no, nil
	}
	if no == "" {
		// The account's coding rule numbers the bill: a retry makes a second one.
		s.autoNo++
		no = fmt.Sprintf("%s%06d", strings.TrimSuffix(form.billTypes[0], "_SYS"), s.autoNo)
	}
	if len(fs.byNo[no]) > 0 && !s.cfg.AllowDuplicateNumbers {
		return 0, "", []problem{dupProblem(no)}
	}
	s.nextID++
	b := &simBill{id: s.nextID, no: no, status: "A", model: p}
	if audit {
		b.status = "C"
	}
	p[noKey], p["FID"] = no, b.id
	fs.byID[b.id] = b
	fs.byNo[no] = append(fs.byNo[no], b)
	return b.id, no, nil
}

func dupProblem(no string) problem {
	return problem{MsgValidation, "FBillNo", "违反字段唯一性要求：编码唯一。[" + no + "]在当前系统中已经被使用。"}
}

func without(list []*simBill, b *simBill) []*simBill {
	out := list[:0:0]
	for _, x := range list {
		if x != b {
			out = append(out, x)
		}
	}
	return out
}

// view answers View by Number or Id.
func (s *Sim) view(w http.ResponseWriter, r *http.Request, b *body, set simfault.Set) {
	formID, data, err := b.business()
	if err != nil {
		s.fail(w, ServiceView, MsgParameter, "", err.Error())
		return
	}
	if forms[formID] == nil {
		s.fail(w, ServiceView, MsgOK, "", msgNoForm)
		return
	}
	no, _ := stringCI(data, "Number")
	idText, _ := stringCI(data, "Id")
	s.billsMu.Lock()
	fs := s.bills[formID]
	var found *simBill
	if idText != "" {
		if id, err := strconv.ParseInt(idText, 10, 64); err == nil {
			found = fs.byID[id]
		}
	} else if list := fs.byNo[no]; len(list) > 0 {
		found = list[0]
	}
	var bill map[string]any
	if found != nil {
		bill = maps.Clone(found.model)
		bill["Id"], bill["BillNo"], bill["DocumentStatus"] = found.id, found.no, found.status
	}
	s.billsMu.Unlock()
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	if found == nil {
		what := no
		if idText != "" {
			what = idText
		}
		s.fail(w, ServiceView, MsgNoData, "", fmt.Sprintf("单据“%s”不存在或已被删除", what))
		return
	}
	writeJSON(w, map[string]any{"Result": map[string]any{
		"ResponseStatus": &ResponseStatus{IsSuccess: true, Errors: []ErrorItem{}, SuccessEntitys: []SuccessEntity{}, SuccessMessages: []any{}},
		"Result":         bill,
	}})
}

// The filters the simulator understands: what this connector sends.
var (
	filterEq = regexp.MustCompile(`^\s*(\w+)\s*=\s*('(?:[^']|'')*'|\d+)\s*$`)
	filterIn = regexp.MustCompile(`(?i)^\s*(\w+)\s+IN\s*\((.*)\)\s*$`)
	quoted   = regexp.MustCompile(`'((?:[^']|'')*)'`)
)

// query answers ExecuteBillQuery: rows of the FieldKeys asked for, by
// FID, paged by StartRow and Limit; errors wrapped in the array.
func (s *Sim) query(w http.ResponseWriter, r *http.Request, b *body, set simfault.Set) {
	formID, data, err := b.business()
	if err != nil {
		s.fail(w, ServiceExecuteBillQuery, MsgParameter, "", err.Error())
		return
	}
	form := forms[formID]
	if form == nil {
		s.fail(w, ServiceExecuteBillQuery, MsgOK, "", msgNoForm)
		return
	}
	keys, _ := stringCI(data, "FieldKeys")
	if strings.TrimSpace(keys) == "" {
		s.fail(w, ServiceExecuteBillQuery, MsgParameter, "FieldKeys", "FieldKeys 不能为空")
		return
	}
	fields := strings.Split(keys, ",")
	for i, f := range fields {
		f = strings.TrimSpace(f)
		fields[i] = f
		base, _, _ := strings.Cut(f, ".")
		if !strings.EqualFold(f, "FID") && !strings.EqualFold(f, "FDocumentStatus") && form.header.lookup(base) == nil {
			s.fail(w, ServiceExecuteBillQuery, MsgNotExist, f, "元数据中标识为"+f+"的字段不存在")
			return
		}
	}
	match, err := parseFilter(data)
	if err != nil {
		s.fail(w, ServiceExecuteBillQuery, MsgParameter, "FilterString", err.Error())
		return
	}
	start, limit := 0, s.cfg.QueryLimit
	if v, ok := getCI(data, "StartRow"); ok {
		if n, ok := number(v); ok && n > 0 {
			start = int(n)
		}
	}
	if v, ok := getCI(data, "Limit"); ok {
		if n, ok := number(v); ok && n > 0 && int(n) < limit {
			limit = int(n)
		}
	}
	if v, ok := getCI(data, "TopRowCount"); ok {
		if n, ok := number(v); ok && n > 0 && int(n) < limit {
			limit = int(n)
		}
	}
	out := [][]any{}
	s.billsMu.Lock()
	fs := s.bills[formID]
	var hits []*simBill
	if match.nos != nil {
		for _, no := range match.nos {
			hits = append(hits, fs.byNo[no]...)
		}
	} else if match.id > 0 {
		if b := fs.byID[match.id]; b != nil {
			hits = append(hits, b)
		}
	} else {
		for _, b := range fs.byID {
			hits = append(hits, b)
		}
	}
	sortBills(hits)
	for i := start; i < len(hits) && len(out) < limit; i++ {
		out = append(out, row(hits[i], fields))
	}
	s.billsMu.Unlock()
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	writeJSON(w, out)
}

func sortBills(list []*simBill) {
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
}

func row(b *simBill, fields []string) []any {
	out := make([]any, len(fields))
	for i, f := range fields {
		switch {
		case strings.EqualFold(f, "FID"):
			out[i] = b.id
		case strings.EqualFold(f, "FBillNo"):
			out[i] = b.no
		case strings.EqualFold(f, "FDocumentStatus"):
			out[i] = b.status
		default:
			base, sub, _ := strings.Cut(f, ".")
			v, _ := getCI(b.model, base)
			if m, ok := v.(map[string]any); ok && sub != "" {
				v, _ = getCI(m, sub)
			}
			out[i] = v
		}
	}
	return out
}

type filter struct {
	nos []string // FBillNo = / IN
	id  int64    // FID =
}

// parseFilter reads FilterString as FBillNo='X', FBillNo IN ('X','Y') or
// FID=n, or the array form with one such condition. The real server takes
// any SQL condition; the simulator refuses what it cannot evaluate rather
// than answer wrongly.
func parseFilter(data map[string]any) (filter, error) {
	v, _ := getCI(data, "FilterString")
	switch f := v.(type) {
	case nil:
		return filter{}, nil
	case string:
		if strings.TrimSpace(f) == "" {
			return filter{}, nil
		}
		if m := filterEq.FindStringSubmatch(f); m != nil {
			return cond(m[1], "=", []string{m[2]})
		}
		if m := filterIn.FindStringSubmatch(f); m != nil {
			var vals []string
			for _, q := range quoted.FindAllString(m[2], -1) {
				vals = append(vals, q)
			}
			return cond(m[1], "IN", vals)
		}
		return filter{}, fmt.Errorf("模拟器只支持 FBillNo='…'、FBillNo IN ('…') 或 FID=数字 的过滤条件，收到 %q", f)
	case []any:
		if len(f) != 1 {
			return filter{}, fmt.Errorf("模拟器只支持一个过滤条件，收到 %d 个", len(f))
		}
		c, ok := f[0].(map[string]any)
		if !ok {
			return filter{}, fmt.Errorf("过滤条件应为对象")
		}
		name, _ := stringCI(c, "FieldName")
		cmp, _ := stringCI(c, "Compare")
		val, _ := stringCI(c, "Value")
		if cmp != "=" && cmp != "67" {
			return filter{}, fmt.Errorf("模拟器只支持 = 比较，收到 %q", cmp)
		}
		return cond(name, "=", []string{"'" + strings.ReplaceAll(val, "'", "''") + "'"})
	}
	return filter{}, fmt.Errorf("FilterString 应为文本或条件数组")
}

func cond(field, op string, vals []string) (filter, error) {
	switch {
	case strings.EqualFold(field, "FBillNo"):
		f := filter{nos: []string{}}
		for _, v := range vals {
			if !strings.HasPrefix(v, "'") {
				return filter{}, fmt.Errorf("FBillNo 的值应加单引号")
			}
			f.nos = append(f.nos, strings.ReplaceAll(v[1:len(v)-1], "''", "'"))
		}
		return f, nil
	case strings.EqualFold(field, "FID") && op == "=":
		id, err := strconv.ParseInt(strings.Trim(vals[0], "'"), 10, 64)
		if err != nil {
			return filter{}, fmt.Errorf("FID 的值 %s 不是数字", vals[0])
		}
		return filter{id: id}, nil
	}
	return filter{}, fmt.Errorf("模拟器只支持按 FBillNo 或 FID 过滤，收到 %s", field)
}

// audit answers Submit, Audit and UnAudit by Numbers (an array) or Ids
// (a comma-separated string; Ids win), moving bills along their life:
// A 创建 → Submit → B 审核中 → Audit → C 已审核 → UnAudit → D 重新审核,
// which Submit takes on again. A step from the wrong status is MsgCode 11
// (auditing twice: "单据已经审核"); an unknown bill is MsgCode 10. Results
// are by DIndex, as for saves.
func (s *Sim) audit(w http.ResponseWriter, r *http.Request, b *body, set simfault.Set) {
	service := ServiceAudit
	switch {
	case strings.HasSuffix(r.URL.Path, ".UnAudit"+ServiceSuffix):
		service = ServiceUnAudit
	case strings.HasSuffix(r.URL.Path, ".Submit"+ServiceSuffix):
		service = ServiceSubmit
	}
	formID, data, err := b.business()
	if err != nil {
		s.fail(w, service, MsgParameter, "", err.Error())
		return
	}
	form := forms[formID]
	if form == nil {
		s.fail(w, service, MsgOK, "", msgNoForm)
		return
	}
	var ids []int64
	var nos []string
	if v, _ := stringCI(data, "Ids"); strings.TrimSpace(v) != "" {
		for _, part := range strings.Split(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				s.fail(w, service, MsgParameter, "Ids", "Ids 应为逗号分隔的单据内码，收到 "+v)
				return
			}
			ids = append(ids, id)
		}
	} else if v, ok := getCI(data, "Numbers"); ok {
		list, ok := v.([]any)
		if !ok {
			s.fail(w, service, MsgParameter, "Numbers", "Numbers 应为数组")
			return
		}
		for _, x := range list {
			no, _ := text2(x)
			nos = append(nos, no)
		}
	}
	if len(ids) == 0 && len(nos) == 0 {
		s.fail(w, service, MsgParameter, "", "Numbers 与 Ids 不能同时为空")
		return
	}
	st := &ResponseStatus{IsSuccess: true, Errors: []ErrorItem{}, SuccessEntitys: []SuccessEntity{}, SuccessMessages: []any{}}
	refuse := func(i, code int, msg string) {
		st.Errors = append(st.Errors, ErrorItem{Message: msg, DIndex: i})
		if st.IsSuccess {
			st.IsSuccess, st.ErrorCode, st.MsgCode = false, 500, code
		}
	}
	s.billsMu.Lock()
	fs := s.bills[formID]
	n := max(len(ids), len(nos))
	for i := range n {
		var bill *simBill
		what := ""
		if ids != nil {
			bill, what = fs.byID[ids[i]], strconv.FormatInt(ids[i], 10)
		} else if list := fs.byNo[nos[i]]; len(list) > 0 {
			bill, what = list[0], nos[i]
		} else {
			what = nos[i]
		}
		if bill == nil {
			refuse(i, MsgNoData, fmt.Sprintf("单据“%s”不存在或已被删除", what))
			continue
		}
		head := fmt.Sprintf("单据编号为“%s”的%s，", bill.no, form.name)
		switch {
		case bill.status == "C" && service != ServiceUnAudit:
			refuse(i, MsgValidation, head+"单据已经审核！")
		case service == ServiceSubmit && bill.status == "B":
			refuse(i, MsgValidation, head+"单据已经提交！")
		case service == ServiceAudit && bill.status != "B":
			refuse(i, MsgValidation, head+"单据未提交，不能审核！")
		case service == ServiceUnAudit && bill.status != "C":
			refuse(i, MsgValidation, head+"单据未审核，不能反审核！")
		default:
			bill.status = map[string]string{ServiceSubmit: "B", ServiceAudit: "C", ServiceUnAudit: "D"}[service]
			st.SuccessEntitys = append(st.SuccessEntitys, SuccessEntity{ID: FlexString(strconv.FormatInt(bill.id, 10)), Number: bill.no, DIndex: i})
		}
	}
	s.billsMu.Unlock()
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	writeJSON(w, map[string]any{"Result": map[string]any{"ResponseStatus": st}})
}
