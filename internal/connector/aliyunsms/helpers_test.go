package aliyunsms

import (
	"net/http/httptest"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/testutil/fakeclock"
)

const (
	testAK     = "LTAI5tTestAccessKeyID01"
	testSecret = "testAccessKeySecret0123456789ab"
	testSign   = "某某商城"

	codeShipped = "SMS_300000001"
	codeNew     = "SMS_300000002"
	codeVerify  = "SMS_300000003"
)

// The account's approved templates, as 模板管理 would show them.
var simTemplates = []SimTemplate{
	{Code: codeShipped, Kind: Notification, Text: "您的订单${order_no}已由${company}发出，运单号${tracking}，请留意查收。"},
	{Code: codeNew, Kind: Notification, Text: "新订单${order_no}，金额${total}，请及时处理。"},
	{Code: codeVerify, Kind: Verification, Text: "您的验证码为${order_no}，5分钟内有效。"},
}

// The templates: setting that matches them.
var testTemplates = map[string]Template{
	"shipped":   {Code: codeShipped, Params: []string{"order_no", "company", "tracking"}},
	"new_order": {Code: codeNew, Params: []string{"order_no", "total"}},
	"verify":    {Code: codeVerify, Params: []string{"order_no"}},
}

func newClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2026, 11, 26, 10, 0, 15, 0, time.UTC))
}

// rig is a simulator on loopback with one AccessKey, the sign 某某商城 and
// the templates above.
type rig struct {
	sim   *Sim
	srv   *httptest.Server
	clock *fakeclock.Clock
}

func newRig(t *testing.T, cfg SimConfig) *rig {
	t.Helper()
	c := newClock()
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	sim := NewSim(cfg)
	sim.AddKey(testAK, testSecret)
	sim.AddSign(SimSign{Name: testSign})
	for _, tpl := range simTemplates {
		sim.AddTemplate(tpl)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &rig{sim: sim, srv: srv, clock: c}
}

func goodSettings() Settings {
	return Settings{AccessKeyID: testAK, AccessKeySecret: testSecret, SignName: testSign, Templates: testTemplates}
}

// client builds a sender the way the hub does: from a configured system.
func (r *rig) client(t *testing.T, s Settings) *Client {
	t.Helper()
	if problems := s.Validate(); len(problems) > 0 {
		t.Fatalf("settings: %+v", problems)
	}
	c, err := NewFromEnv(connector.Env{
		System: &config.System{Name: "sms", Kind: Kind, BaseURL: r.srv.URL, Settings: &s},
		HTTP:   r.srv.Client(),
		Now:    r.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// shipped is a shipping notice to one person.
func shipped(mobiles ...string) connector.Message {
	m := connector.Message{
		Title:    "订单 D1 已发货",
		Text:     "订单 D1 已由顺丰速运发出",
		Key:      "shipped_to_buyer/shop/D1/shipped",
		Template: "shipped",
		Vars:     map[string]string{"order_no": "D1", "company": "顺丰速运", "tracking": "SF1234567890", "total": "¥59.00"},
	}
	for _, n := range mobiles {
		m.To = append(m.To, connector.Recipient{Person: "buyer", Mobile: n})
	}
	return m
}
