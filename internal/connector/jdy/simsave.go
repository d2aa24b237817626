package jdy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/connector/simfault"
)

// salOrder is the part of a sal_order_save body the simulator reads.
// Unknown keys (custom fields such as custom_field__4__…_number, contact
// details) are accepted and kept in the stored body, as the service does.
type salOrder struct {
	ID             flexString `json:"id"`
	BillDate       *string    `json:"billdate"`
	BillNo         string     `json:"billno"`
	CustomerID     flexString `json:"customerid_id"`
	CustomerNumber string     `json:"customerid_number"`
	Remark         string     `json:"remark"`
	Entries        []salLine  `json:"material_entity"`
}

type salLine struct {
	MaterialID     flexString      `json:"materialid_id"`
	MaterialNumber string          `json:"materialid_number"`
	StockID        flexString      `json:"stockid_id"`
	StockNumber    string          `json:"stockid_number"`
	Qty            flexString      `json:"qty"`
	UnitID         flexString      `json:"unit_id"`
	Price          flexString      `json:"price"`
	TaxPrice       flexString      `json:"taxprice"`
	IsFree         json.RawMessage `json:"is_free"`
}

// maxSaveBody bounds one sal_order_save body.
const maxSaveBody = 4 << 20

func (s *Sim) save(w http.ResponseWriter, r *http.Request, now time.Time, lose bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.saveErr(w, CodeInvalid, "Content-Type 须为 application/json，收到 "+ct)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSaveBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxSaveBody {
		s.saveErr(w, CodeInvalid, "请求体过大")
		return
	}
	var o salOrder
	if err := json.Unmarshal(body, &o); err != nil {
		s.saveErr(w, CodeInvalid, "请求体不是合法的销售订单 JSON："+err.Error())
		return
	}
	// Validation reads master data; it changes nothing, so a refused bill
	// leaves no trace.
	s.mu.Lock()
	bill, code, msg := s.validate(&o, now)
	if code == 0 {
		if !s.cfg.DropBodies {
			bill.Body = body
		}
		code, msg = s.commit(bill, string(o.ID), now)
	}
	s.mu.Unlock()
	if lose {
		// Whatever the service did (stored the bill or refused it), the
		// answer never arrives.
		simfault.DropAnswer(w)
		return
	}
	if code != 0 {
		s.saveErr(w, code, msg)
		return
	}
	if s.cfg.LegacyAnswers {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "", "errorCode": "", "data": map[string]any{
			"successPkIds": []string{bill.ID}, "success": true, "errorInfo": []any{}, "message": "", "errorLevel": ""}})
		return
	}
	// The hot path of every benchmark: written by hand (ids are digits).
	no, _ := json.Marshal(bill.BillNo)
	out := make([]byte, 0, 128+len(no))
	out = append(out, `{"errcode":0,"description":"success","data":{"success":true,"ids":["`...)
	out = append(out, bill.ID...)
	out = append(out, `"],"successPkIds":["`...)
	out = append(out, bill.ID...)
	out = append(out, `"],"billno":`...)
	out = append(out, no...)
	out = append(out, "}}"...)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Write(out)
}

func (s *Sim) saveErr(w http.ResponseWriter, code int, msg string) {
	if s.cfg.LegacyAnswers {
		writeJSON(w, http.StatusOK, map[string]any{"success": false, "message": msg, "errorCode": strconv.Itoa(code), "data": map[string]any{
			"successPkIds": []string{}, "success": false, "errorInfo": []any{map[string]string{"id": "", "msg": msg}}, "message": msg, "errorLevel": "error"}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "description": msg})
}

// validate checks a bill against the service's rules and master data,
// under s.mu.
func (s *Sim) validate(o *salOrder, now time.Time) (*SimBill, int, string) {
	if o.BillDate == nil || *o.BillDate == "" {
		return nil, CodeInvalid, "单据日期 billdate 不能为空"
	}
	if _, err := time.Parse(time.DateOnly, *o.BillDate); err != nil {
		return nil, CodeInvalid, "单据日期 billdate 须为 yyyy-MM-dd：" + *o.BillDate
	}
	b := &SimBill{BillNo: o.BillNo, BillDate: *o.BillDate, Remark: o.Remark}
	switch {
	case o.CustomerID != "":
		c := s.customers["id:"+string(o.CustomerID)]
		if c == nil {
			return nil, CodeNotFound, "客户id[" + string(o.CustomerID) + "]不存在"
		}
		b.CustomerID, b.CustomerNumber = c.ID, c.Number
	case o.CustomerNumber != "":
		c := s.customers["no:"+o.CustomerNumber]
		if c == nil {
			return nil, CodeNotFound, "客户编码[" + o.CustomerNumber + "]不存在"
		}
		b.CustomerID, b.CustomerNumber = c.ID, c.Number
	default:
		return nil, CodeInvalid, "客户不能为空：填写 customerid_id 或 customerid_number"
	}
	if len(o.Entries) == 0 {
		return nil, CodeInvalid, "商品分录 material_entity 不能为空"
	}
	b.Lines = make([]SimLine, len(o.Entries))
	for i := range o.Entries {
		e := &o.Entries[i]
		n := i + 1
		var m *Material
		switch {
		case e.MaterialID != "":
			if m = s.materials["id:"+string(e.MaterialID)]; m == nil {
				return nil, CodeNotFound, fmt.Sprintf("第%d行商品id[%s]不存在", n, e.MaterialID)
			}
		case e.MaterialNumber != "":
			if m = s.materials["no:"+e.MaterialNumber]; m == nil {
				return nil, CodeNotFound, fmt.Sprintf("第%d行商品编码[%s]不存在", n, e.MaterialNumber)
			}
		default:
			return nil, CodeInvalid, fmt.Sprintf("第%d行商品不能为空：填写 materialid_id 或 materialid_number", n)
		}
		l := SimLine{MaterialID: m.ID, MaterialNumber: m.Number, Qty: string(e.Qty), Price: string(e.Price), TaxPrice: string(e.TaxPrice)}
		if q, err := strconv.ParseFloat(string(e.Qty), 64); err != nil || !(q > 0) {
			return nil, CodeInvalid, fmt.Sprintf("第%d行数量 qty 须大于 0：%q", n, string(e.Qty))
		}
		for _, p := range []struct{ name, v string }{{"price", string(e.Price)}, {"taxprice", string(e.TaxPrice)}} {
			if p.v == "" {
				continue
			}
			if f, err := strconv.ParseFloat(p.v, 64); err != nil || f < 0 {
				return nil, CodeInvalid, fmt.Sprintf("第%d行单价 %s 须为不小于 0 的数字：%q", n, p.name, p.v)
			}
		}
		switch {
		case e.StockID != "":
			st := s.stocks["id:"+string(e.StockID)]
			if st == nil {
				return nil, CodeNotFound, fmt.Sprintf("第%d行仓库id[%s]不存在", n, e.StockID)
			}
			l.StockID, l.StockNumber = st.ID, st.Number
		case e.StockNumber != "":
			st := s.stocks["no:"+e.StockNumber]
			if st == nil {
				return nil, CodeNotFound, fmt.Sprintf("第%d行仓库编码[%s]不存在", n, e.StockNumber)
			}
			l.StockID, l.StockNumber = st.ID, st.Number
		}
		if e.UnitID != "" {
			linked := false
			for _, u := range m.Units {
				if u.ID == string(e.UnitID) {
					linked = true
					break
				}
			}
			if !linked {
				return nil, CodeNotFound, fmt.Sprintf("第%d行单位[%s]不是商品[%s]的计量单位", n, e.UnitID, m.Number)
			}
			l.UnitID = string(e.UnitID)
		} else if len(m.Units) > 0 {
			l.UnitID = m.Units[0].ID // the base unit
		}
		switch string(e.IsFree) {
		case "", `"false"`, "false", "null":
		case `"true"`, "true":
			l.IsFree = true
		default:
			return nil, CodeInvalid, fmt.Sprintf("第%d行 is_free 须为 \"true\" 或 \"false\"：%s", n, e.IsFree)
		}
		b.Lines[i] = l
	}
	return b, 0, ""
}

// commit stores a valid bill: a new one, or a modification of bill id.
// Under s.mu.
func (s *Sim) commit(b *SimBill, id string, now time.Time) (int, string) {
	if id != "" {
		old := s.byID[id]
		if old == nil {
			return CodeNotFound, "单据[" + id + "]不存在"
		}
		if b.BillNo == "" {
			b.BillNo = old.BillNo
		}
		if b.BillNo != old.BillNo {
			if len(s.byNo[b.BillNo]) > 0 && !s.cfg.DuplicateBillNoAllowed {
				return s.cfg.DuplicateCode, fmt.Sprintf(s.cfg.DuplicateText, b.BillNo)
			}
			s.unindexNo(old)
			s.byNo[b.BillNo] = append(s.byNo[b.BillNo], old)
		}
		old.BillNo, old.BillDate, old.CustomerID, old.CustomerNumber = b.BillNo, b.BillDate, b.CustomerID, b.CustomerNumber
		old.Remark, old.Lines, old.Body = b.Remark, b.Lines, b.Body
		old.Saves++
		old.Modified = now
		*b = *old
		return 0, ""
	}
	if b.BillNo == "" {
		s.seq++
		b.BillNo = fmt.Sprintf("XSDD%s%05d", now.Format("20060102"), s.seq)
		b.AutoNumbered = true
	} else if len(s.byNo[b.BillNo]) > 0 && !s.cfg.DuplicateBillNoAllowed {
		return s.cfg.DuplicateCode, fmt.Sprintf(s.cfg.DuplicateText, b.BillNo)
	}
	s.seq++
	b.ID = strconv.FormatInt(1_900_000_000_000_000_000+s.seq, 10)
	b.Saves, b.Created, b.Modified = 1, now, now
	s.bills = append(s.bills, b)
	s.byNo[b.BillNo] = append(s.byNo[b.BillNo], b)
	s.byID[b.ID] = b
	return 0, ""
}

func (s *Sim) unindexNo(b *SimBill) {
	l := s.byNo[b.BillNo]
	for i, x := range l {
		if x == b {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(s.byNo, b.BillNo)
	} else {
		s.byNo[b.BillNo] = l
	}
}

// list answers GET /jdy/v2/scm/sal_order: 1-based pages of bills, newest
// id last, filtered by search (a substring of the bill number, as the
// service's fuzzy search) and by modify_start_time/modify_end_time (ms).
func (s *Sim) list(w http.ResponseWriter, r *http.Request, lose bool) {
	q := r.URL.Query()
	page, err := intParam(q.Get("page"), 1)
	if err != nil || page < 1 {
		writeErr(w, http.StatusOK, CodeInvalid, "page 须为从 1 开始的整数："+q.Get("page"))
		return
	}
	size, err := intParam(q.Get("page_size"), 10)
	if err != nil || size < 1 || size > 100 {
		writeErr(w, http.StatusOK, CodeInvalid, "page_size 须在 1 到 100 之间："+q.Get("page_size"))
		return
	}
	var from, to int64 = 0, 1<<63 - 1
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"modify_start_time", &from}, {"modify_end_time", &to}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeErr(w, http.StatusOK, CodeInvalid, p.name+" 须为毫秒时间戳："+v)
				return
			}
			*p.dst = n
		}
	}
	search := q.Get("search")
	type row struct {
		ID             string `json:"id"`
		BillNo         string `json:"bill_no"`
		BillDate       string `json:"bill_date"`
		CustomerID     string `json:"customer_id"`
		CustomerNumber string `json:"customer_number"`
		ModifyTime     int64  `json:"modify_time"`
	}
	var rows []row
	count := 0
	s.mu.Lock()
	for _, b := range s.bills {
		if search != "" && !strings.Contains(b.BillNo, search) {
			continue
		}
		if m := b.Modified.UnixMilli(); m < from || m > to {
			continue
		}
		count++
		if count > (page-1)*size && count <= page*size {
			rows = append(rows, row{b.ID, b.BillNo, b.BillDate, b.CustomerID, b.CustomerNumber, b.Modified.UnixMilli()})
		}
	}
	s.mu.Unlock()
	if lose {
		simfault.DropAnswer(w)
		return
	}
	if rows == nil {
		rows = []row{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "description": "success", "data": map[string]any{
		"count": count, "total_page": (count + size - 1) / size, "page": page, "page_size": size, "rows": rows}})
}

func intParam(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}
