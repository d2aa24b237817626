package jdy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/connector"
)

// The simulator's ceiling as the flow bench sees it: sal_order_save calls
// from the real client over loopback, against the same client calling a
// bare handler that only reads the body and answers a fixed success (the
// baseline: HTTP, signing and JSON encoding without the simulator's work).
//
//	go test -run '^$' -bench . -benchmem ./internal/connector/jdy/
func BenchmarkWriteThroughSim(b *testing.B) {
	sim := NewSim(SimConfig{AccountPerMinute: -1, TokenPerMinute: -1})
	sim.SeedDemo()
	benchWrite(b, sim, simOptions(sim, "", time.Now))
}

func BenchmarkWriteBareBaseline(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == PathToken {
			io.WriteString(w, `{"errcode":0,"description":"success","data":{"app-token":"t","domain":"https://tf.jdy.com"}}`)
			return
		}
		io.WriteString(w, `{"errcode":0,"description":"success","data":{"success":true,"ids":["1"],"successPkIds":["1"]}}`)
	})
	benchWrite(b, bare, Options{ClientID: "c", ClientSecret: "s", AppKey: "k", AppSecret: "a"})
}

func benchWrite(b *testing.B, h http.Handler, opt Options) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	opt.BaseURL = srv.URL
	opt.Log = quiet
	opt.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	c, err := New(opt)
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			no := "JY-B-" + strconv.FormatInt(seq.Add(1), 10)
			res, err := c.Write(context.Background(), APISalOrderSave, []connector.Bill{goodBill(no)})
			if err != nil || res[0].Err != nil {
				b.Fatal(err, res)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bills/s")
}
