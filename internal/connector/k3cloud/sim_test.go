package k3cloud

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// raw posts body to a service and returns the status and the answer.
func (s *site) raw(t *testing.T, service, body, sid string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/k3cloud/"+service+ServiceSuffix, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sid != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sid})
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func (s *site) login(t *testing.T) string {
	t.Helper()
	_, _, b := s.raw(t, ServiceValidateUser, `{"parameters":["63f2a1b0c9d8e7","apiuser","k3-sim-password",2052]}`, "")
	var lr LoginResult
	if err := json.Unmarshal(b, &lr); err != nil || lr.LoginResultType != 1 {
		t.Fatalf("login: %s", b)
	}
	return lr.KDSVCSessionID
}

func status(t *testing.T, b []byte) *ResponseStatus {
	t.Helper()
	var sr SaveResult
	if err := json.Unmarshal(b, &sr); err != nil || sr.Result.ResponseStatus == nil {
		t.Fatalf("not a status answer: %s", b)
	}
	return sr.Result.ResponseStatus
}

func sampleJSON(t *testing.T, edit func(p map[string]any)) string {
	t.Helper()
	p := samplePacket(t)
	if edit != nil {
		edit(p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func entry(p map[string]any) map[string]any { return p["FEntity"].([]any)[0].(map[string]any) }

func TestSimLogin(t *testing.T) {
	s := newSite(t, SimConfig{})
	for _, tc := range []struct {
		name, service, body string
		ok                  bool
	}{
		{"positional", ServiceValidateUser, `{"parameters":["63f2a1b0c9d8e7","apiuser","k3-sim-password",2052]}`, true},
		{".NET envelope", ServiceValidateUser, `{"format":1,"useragent":"ApiClient","rid":"1","parameters":"[\"63f2a1b0c9d8e7\",\"apiuser\",\"k3-sim-password\",2052]","timestamp":"2026-01-01","v":"1.0"}`, true},
		{"object, keys in any case", ServiceValidateUser, `{"AcctID":"63f2a1b0c9d8e7","UserName":"apiuser","Password":"k3-sim-password","Lcid":2052}`, true},
		{"wrong password", ServiceValidateUser, `{"parameters":["63f2a1b0c9d8e7","apiuser","nope",2052]}`, false},
		{"wrong acct", ServiceValidateUser, `{"parameters":["000","apiuser","k3-sim-password",2052]}`, false},
		{"app secret", ServiceLoginByAppSecret, `{"parameters":["63f2a1b0c9d8e7","apiuser","` + testAppID + `","` + testAppSecret + `",2052]}`, true},
		{"app secret wrong", ServiceLoginByAppSecret, `{"parameters":["63f2a1b0c9d8e7","apiuser","` + testAppID + `","x",2052]}`, false},
		{"not JSON", ServiceValidateUser, `{"parameters":`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, b := s.raw(t, tc.service, tc.body, "")
			var lr LoginResult
			if err := json.Unmarshal(b, &lr); err != nil || code != http.StatusOK {
				t.Fatalf("%d %s", code, b)
			}
			cookie := strings.Contains(h.Get("Set-Cookie"), SessionCookie+"=")
			if ok := lr.LoginResultType == 1 && lr.KDSVCSessionID != "" && lr.IsSuccessByAPI && cookie; ok != tc.ok {
				t.Fatalf("login ok=%v, want %v: %s (Set-Cookie %q)", ok, tc.ok, b, h.Get("Set-Cookie"))
			}
			if !tc.ok && (lr.Message == nil || *lr.Message == "") {
				t.Fatalf("a refused login says nothing: %s", b)
			}
		})
	}
}

func TestSimStrictness(t *testing.T) {
	s := newSite(t, SimConfig{})
	sid := s.login(t)
	batch := func(packets ...string) string {
		return `{"formid":"SAL_RETURNSTOCK","data":{"NeedReturnFields":["FBillNo"],"Model":[` + strings.Join(packets, ",") + `]}}`
	}
	with := func(no string, edit func(p map[string]any)) string {
		return sampleJSON(t, func(p map[string]any) {
			p["FBillNo"] = no
			if edit != nil {
				edit(p)
			}
		})
	}
	// A bill to collide with.
	if st := status(t, sendOK(t, s, ServiceBatchSave, batch(with("RK-DUP", nil)), sid)); !st.IsSuccess {
		t.Fatalf("first save: %+v", st)
	}
	tests := []struct {
		name, service, body, sid string
		code                     int
		field, msg               string
	}{
		{"no session", ServiceBatchSave, batch(with("RK-1", nil)), "", MsgContextLost, "", msgSessionLost},
		{"unknown session", ServiceBatchSave, batch(with("RK-1", nil)), "feedface", MsgContextLost, "", msgSessionLost},
		{"unknown FormId", ServiceBatchSave, strings.Replace(batch(with("RK-1", nil)), "SAL_RETURNSTOCK", "SAL_NOPE", 1), sid, MsgOK, "", msgNoForm},
		{"missing customer", ServiceBatchSave, batch(with("RK-2", func(p map[string]any) { delete(p, "FRetcustId") })), sid, MsgValidation, "FRetcustId", "字段“退货客户”是必填项"},
		{"missing stock on a row", ServiceBatchSave, batch(with("RK-3", func(p map[string]any) { delete(entry(p), "FStockId") })), sid, MsgValidation, "FStockId", "第1行分录，字段“仓库”是必填项"},
		{"no rows", ServiceBatchSave, batch(with("RK-4", func(p map[string]any) { p["FEntity"] = []any{} })), sid, MsgValidation, "FEntity", "至少需要一行分录"},
		{"zero quantity", ServiceBatchSave, batch(with("RK-5", func(p map[string]any) { entry(p)["FRealQty"] = "0" })), sid, MsgValidation, "FRealQty", "必须大于0"},
		{"quantity not a number", ServiceBatchSave, batch(with("RK-6", func(p map[string]any) { entry(p)["FRealQty"] = "one" })), sid, MsgParameter, "FRealQty", "不是有效的数值"},
		{"bad date", ServiceBatchSave, batch(with("RK-7", func(p map[string]any) { p["FDate"] = "12/11/2024" })), sid, MsgParameter, "FDate", "不是有效的日期"},
		{"reference as a string", ServiceBatchSave, batch(with("RK-8", func(p map[string]any) { p["FRetcustId"] = "SHOP-A" })), sid, MsgParameter, "FRetcustId", `{"FNumber": 编码}`},
		{"unknown material", ServiceBatchSave, batch(with("RK-9", func(p map[string]any) { entry(p)["FMaterialId"] = map[string]any{"FNumber": "SKU-X"} })), sid, MsgNotExist, "FMaterialId", "的值“SKU-X”在系统中不存在"},
		{"unknown customer", ServiceBatchSave, batch(with("RK-10", func(p map[string]any) { p["FRetcustId"] = map[string]any{"FNumber": "SHOP-X"} })), sid, MsgNotExist, "FRetcustId", "“SHOP-X”"},
		{"unknown stock", ServiceBatchSave, batch(with("RK-11", func(p map[string]any) { entry(p)["FStockId"] = map[string]any{"FNumber": "WH-X"} })), sid, MsgNotExist, "FStockId", "“WH-X”"},
		{"unknown org", ServiceBatchSave, batch(with("RK-12", func(p map[string]any) { p["FSaleOrgId"] = map[string]any{"FNumber": "999"} })), sid, MsgNotExist, "FSaleOrgId", "“999”"},
		{"bill type of another form", ServiceBatchSave, batch(with("RK-13", func(p map[string]any) { p["FBillTypeID"] = map[string]any{"FNUMBER": "XSDD01_SYS"} })), sid, MsgNotExist, "FBillTypeID", "“XSDD01_SYS”"},
		{"unknown field", ServiceBatchSave, batch(with("RK-14", func(p map[string]any) { p["FNoSuchField"] = "x" })), sid, MsgNotExist, "FNoSuchField", "元数据中标识为FNoSuchField的字段不存在"},
		{"owner type", ServiceBatchSave, batch(with("RK-15", func(p map[string]any) { entry(p)["FOwnerTypeId"] = "BD_Nobody" })), sid, MsgNotExist, "FOwnerTypeId", "BD_OwnerOrg"},
		{"duplicate number", ServiceBatchSave, batch(with("RK-DUP", nil)), sid, MsgValidation, "FBillNo", "违反字段唯一性要求：编码唯一。[RK-DUP]在当前系统中已经被使用。"},
		{"Save with a Model array", ServiceSave, batch(with("RK-16", nil)), sid, MsgParameter, "Model", "Save 的 Model 应为对象"},
		{"BatchSave with a Model object", ServiceBatchSave, `{"formid":"SAL_RETURNSTOCK","data":{"Model":` + with("RK-17", nil) + `}}`, sid, MsgParameter, "Model", "应为数组"},
		{"modify of an unknown FID", ServiceBatchSave, batch(with("RK-18", func(p map[string]any) { p["FID"] = 424242 })), sid, MsgNoData, "FID", "不存在"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := status(t, sendOK(t, s, tc.service, tc.body, tc.sid))
			if st.IsSuccess || len(st.SuccessEntitys) != 0 || len(st.Errors) == 0 {
				t.Fatalf("accepted: %+v", st)
			}
			e := st.Errors[0]
			if st.MsgCode != tc.code || e.Field() != tc.field || !strings.Contains(e.Message, tc.msg) || st.ErrorCode != 500 {
				t.Fatalf("MsgCode %d field %q message %q; want %d %q containing %q", st.MsgCode, e.Field(), e.Message, tc.code, tc.field, tc.msg)
			}
		})
	}
	if n := s.sim.Len(FormReturnStock); n != 1 {
		t.Fatalf("refused packets were stored: the simulator holds %d bills", n)
	}
}

func sendOK(t *testing.T, s *site, service, body, sid string) []byte {
	t.Helper()
	code, _, b := s.raw(t, service, body, sid)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, b)
	}
	return b
}

func TestSimBodyShapes(t *testing.T) {
	s := newSite(t, SimConfig{})
	sid := s.login(t)
	packet := func(no string) string {
		return sampleJSON(t, func(p map[string]any) { p["FBillNo"] = no })
	}
	quote := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	data := func(no string) string { return `{"Model":[` + packet(no) + `]}` }
	for _, tc := range []struct{ name, no, body string }{
		{"SDK, data object", "RK-S-1", `{"formid":"SAL_RETURNSTOCK","data":` + data("RK-S-1") + `}`},
		{"SDK, data string", "RK-S-2", `{"formid":"SAL_RETURNSTOCK","data":` + quote(data("RK-S-2")) + `}`},
		{"legacy positional", "RK-S-3", `{"parameters":["SAL_RETURNSTOCK",` + quote(data("RK-S-3")) + `]}`},
		{".NET envelope", "RK-S-4", `{"format":1,"useragent":"ApiClient","rid":"9","parameters":` + quote(`["SAL_RETURNSTOCK",`+quote(data("RK-S-4"))+`]`) + `,"timestamp":"2026-01-01T00:00:00","v":"1.0"}`},
		{"keys in upper case", "RK-S-5", strings.NewReplacer(`"FRetcustId"`, `"FRETCUSTID"`, `"FNumber"`, `"FNUMBER"`).Replace(`{"formid":"SAL_RETURNSTOCK","data":` + data("RK-S-5") + `}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := status(t, sendOK(t, s, ServiceBatchSave, tc.body, sid))
			if !st.IsSuccess || len(st.SuccessEntitys) != 1 || st.SuccessEntitys[0].Number != tc.no || s.sim.Count(FormReturnStock, tc.no) != 1 {
				t.Fatalf("%+v", st)
			}
		})
	}
	// Save takes one packet and echoes Id and Number.
	b := sendOK(t, s, ServiceSave, `{"formid":"SAL_RETURNSTOCK","data":{"NeedReturnFields":["FBillNo"],"Model":`+packet("RK-S-6")+`}}`, sid)
	var sr SaveResult
	if err := json.Unmarshal(b, &sr); err != nil || sr.Result.Number != "RK-S-6" || sr.Result.ID == "" || len(sr.Result.NeedReturnData) != 1 {
		t.Fatalf("Save: %s", b)
	}
	// The session id may come as a header instead of the cookie.
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/k3cloud/"+ServiceBatchSave+ServiceSuffix,
		strings.NewReader(`{"formid":"SAL_RETURNSTOCK","data":`+data("RK-S-7")+`}`))
	req.Header.Set(SessionCookie, sid)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if s.sim.Count(FormReturnStock, "RK-S-7") != 1 {
		t.Fatal("a session sent in the kdservice-sessionid header was refused")
	}
}

func TestSimBatchMixedByDIndex(t *testing.T) {
	s := newSite(t, SimConfig{})
	sid := s.login(t)
	good := func(no string) string { return sampleJSON(t, func(p map[string]any) { p["FBillNo"] = no }) }
	bad := sampleJSON(t, func(p map[string]any) {
		p["FBillNo"] = "RK-M-2"
		entry(p)["FMaterialId"] = map[string]any{"FNumber": "NOPE"}
	})
	body := `{"formid":"SAL_RETURNSTOCK","data":{"Model":[` + good("RK-M-1") + `,` + bad + `,` + good("RK-M-3") + `,` + good("RK-M-1") + `]}}`
	st := status(t, sendOK(t, s, ServiceBatchSave, body, sid))
	if len(st.SuccessEntitys) != 2 || st.SuccessEntitys[0].DIndex != 0 || st.SuccessEntitys[1].DIndex != 2 || st.SuccessEntitys[1].Number != "RK-M-3" {
		t.Fatalf("successes %+v", st.SuccessEntitys)
	}
	if len(st.Errors) != 2 || st.Errors[0].DIndex != 1 || st.Errors[1].DIndex != 3 || st.Errors[1].Field() != "FBillNo" {
		t.Fatalf("errors %+v", st.Errors)
	}
	if s.sim.Count(FormReturnStock, "RK-M-1") != 1 || s.sim.Count(FormReturnStock, "RK-M-2") != 0 {
		t.Fatal("the store does not hold exactly the good packets")
	}
}

func TestSimViewAndQuery(t *testing.T) {
	s := newSite(t, SimConfig{})
	sid := s.login(t)
	sendOK(t, s, ServiceBatchSave, `{"formid":"SAL_RETURNSTOCK","data":{"Model":[`+sampleJSON(t, nil)+`]}}`, sid)
	bill, _ := s.sim.Bill(FormReturnStock, "RK2411110001")

	b := sendOK(t, s, ServiceView, `{"formid":"SAL_RETURNSTOCK","data":{"CreateOrgId":0,"Number":"RK2411110001","Id":""}}`, sid)
	var v struct {
		Result struct {
			ResponseStatus *ResponseStatus
			Result         map[string]any
		}
	}
	if err := json.Unmarshal(b, &v); err != nil || !v.Result.ResponseStatus.IsSuccess || v.Result.Result["BillNo"] != "RK2411110001" || v.Result.Result["DocumentStatus"] != "A" {
		t.Fatalf("View: %s", b)
	}
	if st := status(t, sendOK(t, s, ServiceView, `{"formid":"SAL_RETURNSTOCK","data":{"Number":"RK-NONE"}}`, sid)); st.IsSuccess || st.MsgCode != MsgNoData {
		t.Fatalf("View of a missing bill: %+v", st)
	}

	for _, tc := range []struct {
		name, data string
		rows       int
		errCode    int
	}{
		{"by number", `{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID,FBillNo,FDocumentStatus,FRetcustId.FNumber","FilterString":"FBillNo='RK2411110001'"}`, 1, -1},
		{"IN", `{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID","FilterString":"FBillNo IN ('RK2411110001','X')"}`, 1, -1},
		{"array filter", `{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID","FilterString":[{"Left":"(","FieldName":"FBillNo","Compare":"=","Value":"RK2411110001","Right":")","Logic":0}]}`, 1, -1},
		{"no match", `{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID","FilterString":"FBillNo='X'"}`, 0, -1},
		{"StartRow past the end", `{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID","FilterString":"","StartRow":1,"Limit":10}`, 0, -1},
		{"unknown field", `{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID,FNope","FilterString":""}`, 0, MsgNotExist},
		{"unknown form", `{"FormId":"SAL_NOPE","FieldKeys":"FID","FilterString":""}`, 0, MsgOK},
		{"filter the simulator cannot evaluate", `{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID","FilterString":"FDate > '2024-01-01'"}`, 0, MsgParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := sendOK(t, s, ServiceExecuteBillQuery, `{"data":`+tc.data+`}`, sid)
			var rows [][]json.RawMessage
			if err := json.Unmarshal(b, &rows); err != nil {
				t.Fatalf("not an array of arrays: %s", b)
			}
			st, err := queryStatus(rows)
			if err != nil {
				t.Fatal(err)
			}
			if tc.errCode >= 0 {
				if st == nil || st.IsSuccess || st.MsgCode != tc.errCode {
					t.Fatalf("want a wrapped error MsgCode %d: %s", tc.errCode, b)
				}
				return
			}
			if st != nil || len(rows) != tc.rows {
				t.Fatalf("want %d rows: %s", tc.rows, b)
			}
			if tc.rows == 1 && string(rows[0][0]) != jsonInt(bill.ID) {
				t.Fatalf("FID %s, want %d", rows[0][0], bill.ID)
			}
		})
	}
	// The session must be live for queries too; the error comes wrapped.
	b = sendOK(t, s, ServiceExecuteBillQuery, `{"data":{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID"}}`, "")
	if !strings.HasPrefix(string(b), `[[{"Result":{"ResponseStatus":`) || !strings.Contains(string(b), msgSessionLost) {
		t.Fatalf("query without a session: %s", b)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestSimRouting(t *testing.T) {
	s := newSite(t, SimConfig{})
	if code, _, _ := s.raw(t, "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Nope", `{}`, ""); code != http.StatusNotFound {
		t.Fatalf("unknown service: HTTP %d", code)
	}
	resp, err := s.srv.Client().Get(s.srv.URL + "/k3cloud/" + ServiceView + ServiceSuffix)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}
}

func TestSimFaults(t *testing.T) {
	body := func(t *testing.T, no string) string {
		return `{"formid":"SAL_RETURNSTOCK","data":{"Model":[` + sampleJSON(t, func(p map[string]any) { p["FBillNo"] = no }) + `]}}`
	}
	t.Run("throttle is MsgCode 14", func(t *testing.T) {
		s := newSite(t, SimConfig{})
		sid := s.login(t)
		s.sim.Faults().Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1})
		if st := status(t, sendOK(t, s, ServiceBatchSave, body(t, "RK-T-1"), sid)); st.MsgCode != MsgCallLimit || s.sim.Len(FormReturnStock) != 0 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("throttle as HTTP 429", func(t *testing.T) {
		s := newSite(t, SimConfig{ThrottleHTTP: true})
		c := s.client(t, nil)
		s.sim.Faults().Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1})
		_, err := c.Write(t.Context(), FormReturnStock, []connector.Bill{returnBill(t, "RK-T-2", "SKU-RED-M")})
		if ce, ok := connector.AsCallError(err); !ok || ce.Code != "HTTP 429" || ce.Class != "slow_down" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("session loss drops every session", func(t *testing.T) {
		s := newSite(t, SimConfig{})
		sid := s.login(t)
		s.sim.Faults().Inject(simfault.Fault{Kind: simfault.SessionLoss, Count: 1})
		if st := status(t, sendOK(t, s, ServiceBatchSave, body(t, "RK-T-3"), sid)); st.MsgCode != MsgContextLost {
			t.Fatalf("%+v", st)
		}
		if st := status(t, sendOK(t, s, ServiceBatchSave, body(t, "RK-T-3"), sid)); st.MsgCode != MsgContextLost {
			t.Fatalf("the old session still works: %+v", st)
		}
	})
	t.Run("lost answer commits", func(t *testing.T) {
		s := newSite(t, SimConfig{})
		sid := s.login(t)
		s.sim.Faults().Inject(simfault.Fault{Kind: simfault.LoseAnswer, Count: 1})
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/k3cloud/"+ServiceBatchSave+ServiceSuffix, strings.NewReader(body(t, "RK-T-4")))
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sid})
		if resp, err := s.srv.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Fatal("the answer came back")
		}
		if s.sim.Count(FormReturnStock, "RK-T-4") != 1 {
			t.Fatal("the write was not committed")
		}
	})
	t.Run("duplicates allowed by the coding rule", func(t *testing.T) {
		s := newSite(t, SimConfig{AllowDuplicateNumbers: true})
		sid := s.login(t)
		sendOK(t, s, ServiceBatchSave, body(t, "RK-T-5"), sid)
		sendOK(t, s, ServiceBatchSave, body(t, "RK-T-5"), sid)
		if n := s.sim.Count(FormReturnStock, "RK-T-5"); n != 2 {
			t.Fatalf("count %d, want 2", n)
		}
	})
}

// A bill moves A → Submit → B → Audit → C → UnAudit → D; saves are
// refused while it is in review or audited and taken again after UnAudit,
// which is what a person does to let a changed source document through.
func TestSimLifecycle(t *testing.T) {
	s := newSite(t, SimConfig{})
	sid := s.login(t)
	c := s.client(t, nil)
	ctx := t.Context()
	first, err := c.Write(ctx, FormReturnStock, []connector.Bill{returnBill(t, "RK-LC-1", "SKU-RED-M")})
	if err != nil || first[0].Err != nil {
		t.Fatal(err, first)
	}
	update := func() *connector.CallError {
		b := returnBill(t, "RK-LC-1", "G001")
		b.ID = first[0].ID
		res, err := c.Write(ctx, FormReturnStock, []connector.Bill{b})
		if err != nil {
			t.Fatal(err)
		}
		return res[0].Err
	}
	op := func(service, data string) *ResponseStatus {
		return status(t, sendOK(t, s, service, `{"formid":"SAL_RETURNSTOCK","data":`+data+`}`, sid))
	}
	steps := []struct {
		name, service, data string
		ok                  bool
		msg, status         string
	}{
		{"audit before submit", ServiceAudit, `{"Numbers":["RK-LC-1"]}`, false, "单据未提交", "A"},
		{"submit", ServiceSubmit, `{"Numbers":["RK-LC-1"]}`, true, "", "B"},
		{"submit twice", ServiceSubmit, `{"Numbers":["RK-LC-1"]}`, false, "单据已经提交", "B"},
		{"audit by id", ServiceAudit, `{"Ids":"` + first[0].ID + `"}`, true, "", "C"},
		{"audit twice", ServiceAudit, `{"Numbers":["RK-LC-1"]}`, false, "单据已经审核", "C"},
		{"unknown number", ServiceAudit, `{"Numbers":["RK-NONE"]}`, false, "不存在", "C"},
		{"unaudit", ServiceUnAudit, `{"Numbers":["RK-LC-1"]}`, true, "", "D"},
	}
	for _, st := range steps {
		got := op(st.service, st.data)
		if got.IsSuccess != st.ok || !st.ok && (len(got.Errors) == 0 || !strings.Contains(got.Errors[0].Message, st.msg) || got.MsgCode == 0) {
			t.Fatalf("%s: %+v", st.name, got)
		}
		if b, _ := s.sim.Bill(FormReturnStock, "RK-LC-1"); b.Status != st.status {
			t.Fatalf("%s: status %s, want %s", st.name, b.Status, st.status)
		}
		switch st.status {
		case "B", "C":
			if ce := update(); ce == nil || ce.Class != connector.Permanent || ce.Hint == "" {
				t.Fatalf("%s: a save of a bill in status %s was taken: %+v", st.name, st.status, ce)
			}
		}
	}
	if ce := update(); ce != nil {
		t.Fatalf("save after UnAudit: %+v", ce)
	}
	if b, _ := s.sim.Bill(FormReturnStock, "RK-LC-1"); b.Status != "A" || material(b) != "G001" {
		t.Fatalf("after the save: status %s material %s", b.Status, material(b))
	}
}

func TestSimSignedCallGetsACookie(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := newSite(t, SimConfig{Now: func() time.Time { return now }})
	c := s.client(t, func(c *Config) {
		c.Auth, c.AppID, c.AppSecret, c.Now = AuthSigned, testAppID, testAppSecret, func() time.Time { return now }
	})
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/k3cloud/"+ServiceExecuteBillQuery+ServiceSuffix,
		strings.NewReader(`{"data":{"FormId":"SAL_RETURNSTOCK","FieldKeys":"FID"}}`))
	c.sign(req)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sid string
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			sid = ck.Value
		}
	}
	if sid == "" {
		t.Fatal("a signed call got no session cookie")
	}
	// The cookie alone is a live session afterwards.
	if st := status(t, sendOK(t, s, ServiceBatchSave, `{"formid":"SAL_RETURNSTOCK","data":{"Model":[`+sampleJSON(t, nil)+`]}}`, sid)); !st.IsSuccess {
		t.Fatalf("%+v", st)
	}
}
