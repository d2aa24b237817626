// Package simlab runs the built-in simulators of 旺店通, 金蝶云星辰,
// 金蝶云星空 and a 钉钉 group robot side by side on one loopback port, seeded
// with one shared catalog: the shops, warehouses and SKUs the 旺店通
// simulator's documents use are the customers, warehouses and materials the
// 金蝶 simulators know.
// The demo, `orderhub bench flow` and the end-to-end fault test run it.
package simlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"orderhub/internal/connector/dingtalk"
	"orderhub/internal/connector/jdy"
	"orderhub/internal/connector/k3cloud"
	"orderhub/internal/connector/wdt"
)

// Options shape a lab.
type Options struct {
	// Now is every simulator's clock; time.Now when nil.
	Now func() time.Time
	// Unlimited turns the providers' rate limits off (benchmarks).
	Unlimited bool
	// UnknownSKU, when set, is a SKU the 旺店通 catalog may sell but the
	// 金蝶 simulators do not know: a bill with it is refused, as a real
	// ERP refuses an unknown material.
	UnknownSKU string
	// DropBodies keeps only what the 金蝶 simulators need to answer, for
	// long runs.
	DropBodies bool
	// AllowDuplicates makes the 金蝶 simulators save a second bill with a
	// taken number, as an account without unique numbering does: exactly
	// once must then come from verifying before writing again.
	AllowDuplicates bool
}

// Lab is the running simulators.
type Lab struct {
	WDT *wdt.Sim
	JDY *jdy.Sim
	K3  *k3cloud.Sim
	// Ding is a 钉钉 custom group robot with 加签 and the keyword 订单
	// (token DingToken, secret DingSecret).
	Ding *dingtalk.Sim
	// URL is where they listen (http://127.0.0.1:PORT).
	URL string

	srv *http.Server
	ln  net.Listener
}

// Start starts the simulators on a free loopback port.
func Start(o Options) (*Lab, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	wcfg := wdt.SimConfig{SID: "demo-sid", AppKey: "demo-appkey", AppSecret: "demo-appsecret",
		QimenAppKey: "12345678", QimenAppSecret: "demo-qimen-secret", QimenTargetAppKey: "23456789", Now: now}
	if !o.Unlimited {
		wcfg.CallsPerMinute = 600
	}
	jcfg := jdy.SimConfig{Now: now, DropBodies: o.DropBodies, DuplicateBillNoAllowed: o.AllowDuplicates}
	if o.Unlimited {
		jcfg.AccountPerMinute, jcfg.TokenPerMinute = -1, -1
	}
	l := &Lab{
		WDT:  wdt.NewSim(wcfg),
		JDY:  jdy.NewSim(jcfg),
		K3:   k3cloud.NewSim(k3cloud.SimConfig{Now: now, AllowDuplicateNumbers: o.AllowDuplicates}),
		Ding: dingtalk.NewSim(dingtalk.SimConfig{Now: now, NoRateLimit: o.Unlimited}),
	}
	l.Ding.AddRobot(DingToken, DingSecret, DingKeyword)
	cat := l.WDT.Catalog()
	for _, s := range cat.Shops {
		l.JDY.AddCustomer(jdy.Customer{ID: "C-" + s.No, Number: s.No, Name: s.Name})
		l.K3.AddCustomers(s.No)
	}
	for _, w := range cat.Warehouses {
		l.JDY.AddStock(jdy.Stock{ID: "S-" + w.No, Number: w.No, Name: w.Name})
		l.K3.AddStocks(w.No)
	}
	for _, g := range cat.Goods {
		if g.SpecNo == o.UnknownSKU {
			continue
		}
		l.JDY.AddMaterial(jdy.Material{ID: "M-" + g.SpecNo, Number: g.SpecNo, Name: g.GoodsName + " " + g.SpecName,
			Units: []jdy.Unit{{ID: "U-" + g.SpecNo, Name: g.Unit}}})
		l.K3.AddMaterials(g.SpecNo)
	}
	mux := http.NewServeMux()
	mux.Handle(wdt.OpenAPIPath+"/", l.WDT.Handler())
	mux.Handle(wdt.QimenPath, l.WDT.Handler())
	mux.Handle("/k3cloud/", l.K3)
	mux.Handle(dingtalk.PathSend, l.Ding)
	mux.Handle(dingtalk.PathInspect, l.Ding)
	mux.Handle("/", l.JDY.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simlab: listening: %w", err)
	}
	l.ln, l.URL = ln, "http://"+ln.Addr().String()
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("simlab: serving: %v", err))
		}
	}()
	return l, nil
}

// The lab's 钉钉 robot.
const (
	DingToken   = "demo-ding-token"
	DingSecret  = "SECdemo0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	DingKeyword = "订单"
)

// DingInspect is where the lab's robot lists what it took and refused.
func (l *Lab) DingInspect() string { return l.URL + dingtalk.PathInspect }

// Close stops the simulators.
func (l *Lab) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return l.srv.Shutdown(ctx)
}

// SystemsYAML is the systems: entries that point orderhub at the lab:
// wdt (openapi2), wdt_qm (奇门), xingchen (jdy), xingkong (k3cloud) and
// ops_ding (the 钉钉 robot), indented for a top-level systems: key. timeout
// is each system's timeout.
func (l *Lab) SystemsYAML(timeout time.Duration) string {
	j := l.JDY.Config()
	var b strings.Builder
	fmt.Fprintf(&b, "  wdt:\n    kind: wdt\n    base_url: %s%s\n    sid: demo-sid\n    appkey: demo-appkey\n    appsecret: demo-appsecret\n    retry_after: 1s\n    timeout: %s\n", l.URL, wdt.OpenAPIPath, timeout)
	fmt.Fprintf(&b, "  wdt_qm:\n    kind: wdt_qimen\n    base_url: %s%s\n    app_key: \"12345678\"\n    app_secret: demo-qimen-secret\n    target_app_key: \"23456789\"\n    sid: demo-sid\n    retry_after: 1s\n    timeout: %s\n", l.URL, wdt.QimenPath, timeout)
	fmt.Fprintf(&b, "  xingchen:\n    kind: jdy\n    base_url: %s\n    client_id: %q\n    client_secret: %q\n    app_key: %q\n    app_secret: %q\n    timeout: %s\n", l.URL, j.ClientID, j.ClientSecret, j.AppKey, j.AppSecret, timeout)
	fmt.Fprintf(&b, "  ops_ding:\n    kind: dingtalk_robot\n    webhook: %s\n    secret: %s\n    keyword: %s\n    timeout: %s\n", dingtalk.WebhookURL(l.URL, DingToken), DingSecret, DingKeyword, timeout)
	fmt.Fprintf(&b, "  xingkong:\n    kind: k3cloud\n    base_url: %s/k3cloud\n    acct_id: 63f2a1b0c9d8e7\n    username: apiuser\n    password: k3-sim-password\n    lcid: 2052\n    timeout: %s\n", l.URL, timeout)
	return b.String()
}
