package wdt_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/wdt"
)

// Example pulls one window of trades through 奇门 from the simulator,
// seeded with generated trades; a wdt (openapi2) system works the same
// with base_url pointing at URL+"/openapi2".
func Example() {
	loc := time.FixedZone("CST", 8*3600)
	from := time.Date(2026, 1, 5, 10, 0, 0, 0, loc)
	to := from.Add(time.Hour - time.Second)
	now := func() time.Time { return to.Add(time.Hour) }

	sim := wdt.NewSim(wdt.SimConfig{
		SID: "mysid", QimenAppKey: "12345678", QimenAppSecret: "qmsecret", QimenTargetAppKey: "23456789", Now: now,
	})
	if _, err := sim.Generate(250, from, to, 1); err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	system := &config.System{Name: "wdt_qm", Kind: wdt.KindQimen, BaseURL: srv.URL + "/router/qm",
		Settings: &wdt.QimenSettings{AppKey: "12345678", AppSecret: "qmsecret", TargetAppKey: "23456789", SID: "mysid"}}
	puller, err := connector.NewPuller(connector.Env{System: system, Location: loc, HTTP: srv.Client(), Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	seen := 0
	for page := 0; ; page++ {
		p, err := puller.Pull(context.Background(), connector.PullRequest{API: wdt.APITrades, From: from, To: to, PageNo: page, PageSize: 100})
		if err != nil {
			fmt.Println(err)
			return
		}
		if page == 0 {
			fmt.Println("window holds", p.Total, "trades")
			o := p.Docs[0].Order
			fmt.Println("first:", o.OrderNo, o.Status, o.UpdatedAt.In(loc).Format(time.DateTime), "items", len(o.Items))
		}
		seen += len(p.Docs)
		if len(p.Docs) < 100 {
			break
		}
	}
	fmt.Println("read", seen)

	// A wider window than trade.query allows never leaves the client.
	_, err = puller.Pull(context.Background(), connector.PullRequest{API: wdt.APITrades, From: from, To: from.Add(2 * time.Hour), PageSize: 100})
	ce, _ := connector.AsCallError(err)
	fmt.Println(ce.Class, ce.Hint)
	// Output:
	// window holds 250 trades
	// first: JY26010500000014 completed 2026-01-05 10:00:00 items 1
	// read 250
	// permanent 旺店通 trade.query 的时间跨度不能超过60分钟：把窗口切小后再查
}
