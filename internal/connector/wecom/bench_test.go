package wecom

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The sender posting to the simulator (limits off), against the ceiling:
// a bare client posting the same body to a handler that only answers ok.
// Compare ns/op of the two side by side.
func BenchmarkSendToSim(b *testing.B) {
	sim := NewSim(SimConfig{NoRateLimit: true, Keep: 1000})
	sim.AddRobot(simKey)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	s, err := New(Config{System: "bench", Webhook: WebhookURL(srv.URL, simKey), HTTP: benchClient()})
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
	body, _, _, _ := Build(TypeMarkdown, orderMsg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()
	c := benchClient()
	url := WebhookURL(srv.URL, simKey)
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

func BenchmarkBuildMarkdown(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Build(TypeMarkdown, orderMsg)
	}
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}
