package feishu

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The sender posting signed cards with a keyword to the simulator (limits
// off), against the ceiling: a bare client posting the same body to a
// handler that only answers success. Compare ns/op side by side.
func BenchmarkSendToSim(b *testing.B) {
	sim := NewSim(SimConfig{NoRateLimit: true, Keep: 1000})
	sim.AddRobot(Robot{Token: simToken, Secret: simSecret, Keywords: []string{"订单"}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	s, err := New(Config{System: "bench", Webhook: HookURL(srv.URL, simToken), Secret: simSecret, Keyword: "订单", HTTP: benchClient()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Send(context.Background(), orderMsg); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkBaselinePost(b *testing.B) {
	body, _, _ := Build(TypeInteractive, orderMsg, "订单", NewStamp(simSecret, time.Now().Unix()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, success)
	}))
	defer srv.Close()
	c := benchClient()
	url := HookURL(srv.URL, simToken)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func BenchmarkBuildCard(b *testing.B) {
	st := NewStamp(simSecret, 1700000000)
	b.ReportAllocs()
	for b.Loop() {
		Build(TypeInteractive, orderMsg, "订单", st)
	}
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}
