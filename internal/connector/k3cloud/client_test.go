package k3cloud

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
	"orderhub/internal/connector/simfault"
)

// site is a simulator on loopback with the master data of seed 003's
// sample and a client logged in with the password.
type site struct {
	sim *Sim
	srv *httptest.Server
}

const (
	testAppID     = "224123_b3JkZXItaHViLXRlc3Qtc2VjcmV0LTI0"
	testAppSecret = "0123456789abcdef0123456789abcdef"
)

func newSite(t *testing.T, cfg SimConfig) *site {
	t.Helper()
	if cfg.AppID == "" {
		cfg.AppID, cfg.AppSecret = testAppID, testAppSecret
	}
	sim := NewSim(cfg)
	sim.AddMaterials("SKU-RED-M", "G001")
	sim.AddCustomers("SHOP-A")
	sim.AddStocks("WH-1")
	sim.AddStaff("EMP001")
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &site{sim: sim, srv: srv}
}

func (s *site) client(t *testing.T, mutate func(*Config)) *Client {
	t.Helper()
	sc := s.sim.Config()
	cfg := Config{System: "xingkong", BaseURL: s.srv.URL + "/k3cloud", AcctID: sc.AcctID, Username: sc.Username,
		Password: sc.Password, HTTP: s.srv.Client()}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// samplePacket is testdata's seed 003 packet.
func samplePacket(t testing.TB) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/sal_returnstock_seed003.json")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func returnBill(t testing.TB, no, material string) connector.Bill {
	p := samplePacket(t)
	delete(p, "FBillNo")
	p["FEntity"].([]any)[0].(map[string]any)["FMaterialId"] = map[string]any{"FNumber": material}
	return connector.Bill{No: no, Body: p}
}

func orderBill(no, material string) connector.Bill {
	return connector.Bill{No: no, Body: map[string]any{
		"FBillTypeID": map[string]any{"FNUMBER": "XSDD01_SYS"},
		"FDate":       "2024-11-11 09:12:03",
		"FSaleOrgId":  map[string]any{"FNumber": "100"},
		"FCustId":     map[string]any{"FNumber": "SHOP-A"},
		"FSalerId":    map[string]any{"FNumber": "EMP001"},
		"FSaleOrderFinance": map[string]any{"FSettleCurrId": map[string]any{"FNumber": "PRE001"},
			"FIsIncludedTax": true, "FExchangeTypeId": map[string]any{"FNumber": "HLTX01_SYS"}, "FExchangeRate": 1},
		"FSaleOrderEntry": []any{map[string]any{
			"FRowType": "Standard", "FMaterialId": map[string]any{"FNumber": material},
			"FUnitID": map[string]any{"FNumber": "Pcs"}, "FPriceUnitId": map[string]any{"FNumber": "Pcs"},
			"FQty": "1", "FTaxPrice": "179.00", "FEntryTaxRate": 13, "FIsFree": false,
			"FDeliveryDate": "2024-11-12 00:00:00", "FSettleOrgIds": map[string]any{"FNumber": "100"}}},
	}}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		form string
		bill func(t testing.TB, no, material string) connector.Bill
	}{
		{FormReturnStock, returnBill},
		{FormSaleOrder, func(_ testing.TB, no, material string) connector.Bill { return orderBill(no, material) }},
	} {
		t.Run(tc.form, func(t *testing.T) {
			connectortest.RunWrite(t, func(t *testing.T) connectortest.WriteSetup {
				s := newSite(t, SimConfig{})
				api, _ := writeAPI(tc.form)
				return connectortest.WriteSetup{
					Writer: s.client(t, nil), API: api, Faults: s.sim.Faults(),
					Good:           func(no string) connector.Bill { return tc.bill(t, no, "SKU-RED-M") },
					Bad:            func(no string) connector.Bill { return tc.bill(t, no, "SKU-NOT-IN-K3") },
					Stored:         func(no string) int { return s.sim.Count(tc.form, no) },
					BadCredentials: s.client(t, func(c *Config) { c.Password = "wrong" }),
				}
			})
		})
	}
}

func TestSampleFromSeed003IsAccepted(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, nil)
	p := samplePacket(t)
	res, err := c.Write(context.Background(), FormReturnStock, []connector.Bill{{No: "RK2411110001", Body: p}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("the seed 003 sample: %v %+v", err, res)
	}
	b, ok := s.sim.Bill(FormReturnStock, "RK2411110001")
	if !ok || b.Status != "A" || res[0].ID == "" {
		t.Fatalf("stored %+v %v; result %+v", b, ok, res[0])
	}
}

// The smallest packet the package doc promises the simulator takes.
func TestMinimalPacketIsAccepted(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, nil)
	body := map[string]any{
		"FBillTypeID": map[string]any{"FNUMBER": "XSTHD01_SYS"},
		"FDate":       "2024-11-12",
		"FSaleOrgId":  map[string]any{"FNumber": "100"}, "FStockOrgId": map[string]any{"FNumber": "100"},
		"FRetcustId": map[string]any{"FNumber": "SHOP-A"},
		"FEntity": []any{map[string]any{"FMaterialId": map[string]any{"FNumber": "SKU-RED-M"}, "FRealQty": "1",
			"FStockId": map[string]any{"FNumber": "WH-1"}}},
	}
	res, err := c.Write(context.Background(), FormReturnStock, []connector.Bill{{No: "RK-MIN-1", Body: body}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	for _, drop := range []string{"FBillTypeID", "FDate", "FSaleOrgId", "FStockOrgId", "FRetcustId", "FEntity"} {
		b := maps.Clone(body)
		delete(b, drop)
		res, err := c.Write(context.Background(), FormReturnStock, []connector.Bill{{No: "RK-MIN-" + drop, Body: b}})
		if err != nil || res[0].Err == nil || res[0].Err.Field != drop {
			t.Fatalf("without %s: %v %+v", drop, err, res)
		}
	}
}

func TestUnknownMaterialHint(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, nil)
	res, err := c.Write(context.Background(), FormReturnStock, []connector.Bill{returnBill(t, "RK-X-1", "SKU-GONE")})
	if err != nil {
		t.Fatal(err)
	}
	ce := res[0].Err
	if ce == nil || ce.Class != connector.Permanent || ce.Field != "FMaterialId" || ce.Code != "MsgCode 9" {
		t.Fatalf("unknown material: %+v", ce)
	}
	if !strings.Contains(ce.Message, "SKU-GONE") || !strings.HasPrefix(ce.Hint, "物料编码 SKU-GONE 在金蝶中不存在") || !strings.Contains(ce.Hint, "lookup") {
		t.Fatalf("message %q, hint %q", ce.Message, ce.Hint)
	}
}

func TestBatchOfFiftyWithMixedResults(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, nil)
	var bills []connector.Bill
	for i := range 50 {
		m := "SKU-RED-M"
		if i%7 == 3 {
			m = "SKU-MISSING"
		}
		bills = append(bills, returnBill(t, "RK-B-"+strconv.Itoa(i), m))
	}
	res, err := c.Write(context.Background(), FormReturnStock, bills)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.sim.Calls(ServiceBatchSave); n != 1 {
		t.Fatalf("%d BatchSave calls for one batch", n)
	}
	for i, r := range res {
		bad := i%7 == 3
		if (r.Err != nil) != bad || (r.ID == "") != bad || r.No != bills[i].No {
			t.Fatalf("bill %d (bad %v): %+v", i, bad, r)
		}
		if want := 1; !bad && s.sim.Count(FormReturnStock, r.No) != want {
			t.Fatalf("bill %s stored %d times", r.No, s.sim.Count(FormReturnStock, r.No))
		}
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, nil)
	ctx := context.Background()
	run := func(prefix string) {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := c.Write(ctx, FormReturnStock, []connector.Bill{returnBill(t, prefix+strconv.Itoa(i), "SKU-RED-M")})
				if err == nil && res[0].Err != nil {
					err = res[0].Err
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	run("RK-C-")
	if c.Logins() != 1 || s.sim.Logins() != 1 {
		t.Fatalf("16 concurrent first calls sent %d logins (server saw %d), want 1", c.Logins(), s.sim.Logins())
	}
	s.sim.DropSessions()
	run("RK-D-")
	if c.Logins() != 2 {
		t.Fatalf("after the server lost the session, 16 callers sent %d logins in all, want 2", c.Logins())
	}
	if n := s.sim.Len(FormReturnStock); n != 32 {
		t.Fatalf("the server holds %d bills, want 32", n)
	}
}

func TestSessionIdleExpiryIsRenewed(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newSite(t, SimConfig{SessionIdle: 10 * time.Minute, Now: clock})
	c := s.client(t, nil)
	ctx := context.Background()
	if _, err := c.Write(ctx, FormReturnStock, []connector.Bill{returnBill(t, "RK-I-1", "SKU-RED-M")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	res, err := c.Write(ctx, FormReturnStock, []connector.Bill{returnBill(t, "RK-I-2", "SKU-RED-M")})
	if err != nil || res[0].Err != nil || c.Logins() != 2 {
		t.Fatalf("after idle expiry: %v %+v, %d logins", err, res, c.Logins())
	}
}

func TestBadLoginSharedByWaiters(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, func(c *Config) { c.Password = "wrong" })
	_, err := c.Write(context.Background(), FormReturnStock, []connector.Bill{returnBill(t, "RK-L-1", "SKU-RED-M")})
	ce, ok := connector.AsCallError(err)
	if !ok || ce.Class != connector.Permanent || !strings.Contains(ce.Hint, "acct_id") || !strings.Contains(ce.Hint, "password") || ce.Message != "用户名或密码错误！" {
		t.Fatalf("bad password: %v", err)
	}
	other := s.client(t, func(c *Config) { c.AcctID = "nope" })
	if _, _, err := other.Find(context.Background(), FormReturnStock, "X"); connector.ClassOf(err) != connector.Permanent {
		t.Fatalf("unknown acct_id: %v", err)
	}
}

func TestOtherAuthModes(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := newSite(t, SimConfig{Now: func() time.Time { return now }})
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		ok   bool
	}{
		{"app secret", func(c *Config) { c.Password, c.AppID, c.AppSecret = "", testAppID, testAppSecret }, true},
		{"app secret wrong", func(c *Config) { c.Password, c.AppID, c.AppSecret = "", testAppID, "bad" }, false},
		{"signed seconds", func(c *Config) {
			c.Auth, c.AppID, c.AppSecret, c.Now = AuthSigned, testAppID, testAppSecret, func() time.Time { return now }
		}, true},
		{"signed millis", func(c *Config) {
			c.Auth, c.AppID, c.AppSecret, c.TimestampMillis, c.Now = AuthSigned, testAppID, testAppSecret, true, func() time.Time { return now }
		}, true},
		{"signed stale", func(c *Config) {
			c.Auth, c.AppID, c.AppSecret, c.Now = AuthSigned, testAppID, testAppSecret, func() time.Time { return now.Add(-13 * time.Minute) }
		}, false},
		{"signed wrong secret", func(c *Config) {
			c.Auth, c.AppID, c.AppSecret, c.Now = AuthSigned, testAppID, "fedcba9876543210fedcba9876543210", func() time.Time { return now }
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.client(t, tc.cfg)
			no := "RK-A-" + strings.ReplaceAll(tc.name, " ", "-")
			res, err := c.Write(context.Background(), FormReturnStock, []connector.Bill{returnBill(t, no, "SKU-RED-M")})
			if !tc.ok {
				ce, isCE := connector.AsCallError(err)
				if !isCE || ce.Class != connector.Permanent || ce.Hint == "" {
					t.Fatalf("want a Permanent refusal with a hint, got %v", err)
				}
				if s.sim.Count(FormReturnStock, no) != 0 {
					t.Fatal("a refused login wrote a bill")
				}
				return
			}
			if err != nil || res[0].Err != nil {
				t.Fatalf("%v %+v", err, res)
			}
			if id, found, err := c.Find(context.Background(), FormReturnStock, no); err != nil || !found || id != res[0].ID {
				t.Fatalf("Find = %q %v %v", id, found, err)
			}
		})
	}
}

func TestAuditedBillCannotBeUpdated(t *testing.T) {
	s := newSite(t, SimConfig{})
	ctx := context.Background()
	c := s.client(t, func(c *Config) { c.AutoAudit = true })
	first, err := c.Write(ctx, FormReturnStock, []connector.Bill{returnBill(t, "RK-U-1", "SKU-RED-M")})
	if err != nil || first[0].Err != nil {
		t.Fatal(err, first)
	}
	if b, _ := s.sim.Bill(FormReturnStock, "RK-U-1"); b.Status != "C" {
		t.Fatalf("IsAutoSubmitAndAudit saved status %q, want C", b.Status)
	}
	upd := returnBill(t, "RK-U-1", "G001")
	upd.ID = first[0].ID
	res, err := c.Write(ctx, FormReturnStock, []connector.Bill{upd})
	if err != nil {
		t.Fatal(err)
	}
	ce := res[0].Err
	if ce == nil || ce.Class != connector.Permanent || !strings.Contains(ce.Message, "已经审核") || !strings.Contains(ce.Hint, "反审核") {
		t.Fatalf("update of an audited bill: %+v", ce)
	}
	if b, _ := s.sim.Bill(FormReturnStock, "RK-U-1"); material(b) != "SKU-RED-M" {
		t.Fatalf("the refused update changed the bill: %v", material(b))
	}
}

func TestUpdateReplacesEntries(t *testing.T) {
	s := newSite(t, SimConfig{})
	ctx := context.Background()
	c := s.client(t, nil)
	first, _ := c.Write(ctx, FormReturnStock, []connector.Bill{returnBill(t, "RK-U-2", "SKU-RED-M")})
	upd := returnBill(t, "RK-U-2", "G001")
	upd.ID = first[0].ID
	res, err := c.Write(ctx, FormReturnStock, []connector.Bill{upd})
	if err != nil || res[0].Err != nil || res[0].ID != first[0].ID {
		t.Fatalf("update: %v %+v", err, res)
	}
	b, _ := s.sim.Bill(FormReturnStock, "RK-U-2")
	if material(b) != "G001" || len(b.Model["FEntity"].([]any)) != 1 || s.sim.Len(FormReturnStock) != 1 {
		t.Fatalf("after the update: %+v", b.Model)
	}
}

func material(b SimBill) string {
	rows, _ := b.Model["FEntity"].([]any)
	if len(rows) == 0 {
		return ""
	}
	m, _ := rows[0].(map[string]any)["FMaterialId"].(map[string]any)
	return m["FNumber"].(string)
}

func TestFindMany(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, func(c *Config) { c.QueryLimit = 2 })
	ctx := context.Background()
	var bills []connector.Bill
	for _, no := range []string{"RK-F-1", "RK-F-2", "RK-F-3", "O'Brien-1"} {
		bills = append(bills, returnBill(t, no, "SKU-RED-M"))
	}
	res, err := c.Write(ctx, FormReturnStock, bills)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.FindMany(ctx, FormReturnStock, []string{"RK-F-1", "RK-F-3", "RK-F-9", "O'Brien-1", "RK-F-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 || ids["RK-F-1"] != res[0].ID || ids["RK-F-2"] != res[1].ID || ids["RK-F-3"] != res[2].ID || ids["O'Brien-1"] != res[3].ID {
		t.Fatalf("FindMany over pages of 2 = %v", ids)
	}
}

func TestMappedNumberMustBeTheBillNumber(t *testing.T) {
	s := newSite(t, SimConfig{})
	c := s.client(t, nil)
	b := returnBill(t, "RK-N-1", "SKU-RED-M")
	b.Body["FBillNo"] = "SOMETHING-ELSE"
	res, err := c.Write(context.Background(), FormReturnStock, []connector.Bill{b, {Body: b.Body}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err == nil || r.Err.Class != connector.Permanent || r.Err.Field != "FBillNo" {
			t.Fatalf("bill %d: %+v", i, r)
		}
	}
	if s.sim.Calls(ServiceBatchSave) != 0 {
		t.Fatal("bills refused locally were sent")
	}
}

// TestClasses maps every answer the connector knows to its class.
func TestClasses(t *testing.T) {
	s := newSite(t, SimConfig{})
	ctx := context.Background()
	write := func(mutate func(*Config), faults ...simfault.Fault) error {
		c := s.client(t, mutate)
		if _, _, err := c.Find(ctx, FormReturnStock, "warm-up"); err != nil && mutate == nil {
			t.Fatal(err)
		}
		for _, f := range faults {
			s.sim.Faults().Inject(f)
		}
		defer s.sim.Faults().Clear()
		_, err := c.Write(ctx, FormReturnStock, []connector.Bill{returnBill(t, "RK-K-"+strconv.Itoa(len(faults)), "SKU-RED-M")})
		return err
	}
	statusAnswer := func(code int) error {
		c := s.client(t, nil)
		st := &ResponseStatus{MsgCode: code, Errors: []ErrorItem{{Message: "x"}}}
		if ce := c.wholeCall("BatchSave", st); ce != nil {
			return ce
		}
		return nil
	}
	refusal := func(msgCode int, field, msg string) error {
		c := s.client(t, nil)
		r := c.refusal("BatchSave", returnBill(t, "RK-R", "SKU-X"), samplePacket(t), msgCode, []ErrorItem{{FieldName: strPtr(field), Message: msg}})
		if r.Duplicate {
			return errors.New("duplicate")
		}
		return r.Err
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cases := []connectortest.ClassCase{
		{Name: "MsgCode 14 call limit", Err: write(nil, simfault.Fault{Kind: simfault.Throttle, Count: 1}), Want: connector.SlowDown},
		{Name: "HTTP 429", Err: connector.StatusError("x", "BatchSave", http.StatusTooManyRequests, nil, true), Want: connector.SlowDown},
		{Name: "HTTP 502 on a write", Err: write(nil, simfault.Fault{Kind: simfault.ServerError, Count: 1}), Want: connector.Unknown},
		{Name: "HTTP 519 on a write", Err: connector.StatusError("x", "BatchSave", 519, nil, true), Want: connector.Unknown},
		{Name: "HTTP 519 on a query", Err: connector.StatusError("x", "ExecuteBillQuery", 519, nil, false), Want: connector.Retry},
		{Name: "answer lost after commit", Err: write(nil, simfault.Fault{Kind: simfault.LoseAnswer, Count: 1}), Want: connector.Unknown},
		{Name: "connection refused", Err: write(func(c *Config) { c.BaseURL = closed.URL + "/k3cloud" }), Want: connector.Retry},
		{Name: "bad password", Err: write(func(c *Config) { c.Password = "nope" }), Want: connector.Permanent},
		{Name: "MsgCode 2 no permission", Err: statusAnswer(MsgNoPermission), Want: connector.Permanent},
		{Name: "MsgCode 7 licence", Err: statusAnswer(MsgLicence), Want: connector.Permanent},
		{Name: "MsgCode 15 admin forbidden", Err: statusAnswer(MsgAdminForbidden), Want: connector.Permanent},
		{Name: "MsgCode 4 exception", Err: statusAnswer(MsgException), Want: connector.Unknown},
		{Name: "MsgCode 6 database", Err: statusAnswer(MsgDBFailed), Want: connector.Unknown},
		{Name: "MsgCode 13 network control", Err: statusAnswer(MsgNetworkCtrl), Want: connector.Retry},
		{Name: "MsgCode 9 unknown material", Err: refusal(MsgNotExist, "FMaterialId", "字段“物料编码”的值“SKU-X”在系统中不存在或未审核"), Want: connector.Permanent},
		{Name: "MsgCode 11 required", Err: refusal(MsgValidation, "FRetcustId", "字段“退货客户”是必填项"), Want: connector.Permanent},
		{Name: "MsgCode 11 audited", Err: refusal(MsgValidation, "", "单据编号为“RK-R”的销售退货单，单据已经审核，不能修改！"), Want: connector.Permanent},
		{Name: "MsgCode 12 not operable", Err: refusal(MsgNotOperable, "", "当前状态不允许保存"), Want: connector.Permanent},
	}
	connectortest.CheckClasses(t, cases)

	if err := refusal(MsgValidation, "FBillNo", "违反字段唯一性要求：编码唯一。[RK-R]在当前系统中已经被使用。"); err == nil || err.Error() != "duplicate" {
		t.Fatalf("the uniqueness answer is not Duplicate: %v", err)
	}
}
