package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/jobs"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// BenchmarkRender matches and renders the shipped big_order template for one
// event, beside a baseline that formats a message of the same shape with
// fmt.Sprintf: the ratio is what the template engine costs.
func BenchmarkRender(b *testing.B) {
	cfg, err := configFor("rules:\n  big_order: {on: [created], when: \"order.total >= 5000\", channels: [ops_ding], template: big_order}\n")
	if err != nil {
		b.Fatal(err)
	}
	rs, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	o := sample()
	ev := notify.Event{Type: order.EventCreated, To: order.StatusPaid}
	b.Run("match+render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ms, err := rs.Match(o, ev)
			if err != nil || len(ms) != 1 {
				b.Fatal(ms, err)
			}
		}
	})
	b.Run("baseline-sprintf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			total, _ := notify.Yuan(o.Total.String())
			s := fmt.Sprintf("### 大额订单 %s\n\n**%s**（%s）\n\n- 店铺：%s\n- 买家：%s\n- 下单时间：%s\n\n- %s × %d　%s\n\n[查看订单](%s)",
				o.OrderNo, total, "已付款", "shop", order.MaskPhone(o.Buyer.Phone), o.CreatedAt.Format("2006-01-02 15:04:05"),
				o.Items[0].Name, o.Items[0].Quantity, total, "http://127.0.0.1:8080/orders/"+o.Source+"/"+o.OrderNo)
			if len(s) == 0 {
				b.Fatal("empty")
			}
		}
	})
}

// discard takes every message at once, as a provider that answers in no
// time would: what BenchmarkDeliver measures is orderhub's own work around
// the calls.
type discard struct{}

func (discard) Send(context.Context, connector.Message) (connector.SendResult, error) {
	return connector.SendResult{Code: "0"}, nil
}

// BenchmarkDeliver is the delivery path's own work per message on SQLite:
// the dispatcher hands 1,000 created events to the rules consumer (read the
// orders, match, render, queue), then the sender drains the endpoint without
// a pace (claim, call, record the answer and the timeline step). A round's
// orders are stored before its clock starts.
func BenchmarkDeliver(b *testing.B) {
	const orders = 1000
	rules := benchRules(b)
	ctx := context.Background()
	var msgs int
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := store.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "deliver.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		in := make([]store.Incoming, orders)
		at := time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)
		for j := range in {
			o := sample()
			o.OrderNo = fmt.Sprintf("M2026%06d", j)
			o.Total = order.Money(int64(j%10) * 120000)
			in[j] = store.Incoming{Order: o, Raw: []byte(`{}`), ReceivedAt: at}
		}
		for start := 0; start < orders; start += 500 {
			if _, err := st.Apply(ctx, in[start:start+500], nil); err != nil {
				b.Fatal(err)
			}
		}
		stage := notify.NewStage(st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		ep := &notify.Endpoint{System: "ops_ding", Kind: "dingtalk_robot", Sender: discard{}, Provider: "钉钉", CodeName: "errcode"}
		stage.SetSetup(&notify.Setup{Rules: rules, Endpoints: map[string]*notify.Endpoint{"ops_ding": ep}})
		disp := jobs.NewDispatcher(st, nil, stage)
		b.StartTimer()
		used := processCPU()
		if err := disp.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		n, err := stage.Drain(ctx, ep)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU() - used
		msgs += n
		st.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(msgs, 1)), "ns/msg")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(msgs, 1)), "cpu-ns/msg")
}

// processCPU is the CPU time the process has used, user and system: the
// delivery path runs on several goroutines (the sender's calls side by side,
// SQLite's checkpoints).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchRules(b *testing.B) *notify.Rules {
	cfg, err := configFor(`rules:
  new_order: {on: [created], channels: [ops_ding], template: new_order}
  big_order: {on: [created], when: "order.total >= 5000", channels: [ops_ding], template: big_order, priority: high}
`)
	if err != nil {
		b.Fatal(err)
	}
	rs, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	return rs
}
