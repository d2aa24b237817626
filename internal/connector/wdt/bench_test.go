package wdt

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
)

// BenchmarkPull10k pages 10,000 generated trades (ten one-hour windows)
// out of the simulator: through the client of each route (decoding and
// normalizing every document), and, as the baseline run beside them, by
// bare signed POSTs whose answers are read but not decoded: the
// simulator's own ceiling. Compare the docs/s of the three.
func BenchmarkPull10k(b *testing.B) {
	clk := &clock{}
	sim := NewSim(simConfig(clk))
	from := at("2026-01-05 00:00:00")
	to := from.Add(10*time.Hour - time.Second)
	if _, err := sim.Generate(10_000, from, to, 5); err != nil {
		b.Fatal(err)
	}
	clk.Set(to.Add(time.Hour))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	pullAll := func(b *testing.B, page func(from, to time.Time, no int) int) {
		docs := 0
		for b.Loop() {
			for w := from; w.Before(to); w = w.Add(time.Hour) {
				for no := 0; ; no++ {
					n := page(w, w.Add(time.Hour-time.Second), no)
					docs += n
					if n < 100 {
						break
					}
				}
			}
		}
		b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
	}
	b.Run("bare", func(b *testing.B) {
		hc := srv.Client()
		pullAll(b, func(f, t time.Time, no int) int {
			p := map[string]string{"sid": testSID, "appkey": testAppKey, "timestamp": strconv.FormatInt(clk.Now().Unix(), 10),
				"start_time": f.Format(wdtTime), "end_time": t.Format(wdtTime), "page_no": strconv.Itoa(no), "page_size": "100"}
			p["sign"] = SignOpenAPI(p, testSecret, SignChars)
			form := url.Values{}
			for k, v := range p {
				form.Set(k, v)
			}
			resp, err := hc.Post(srv.URL+"/openapi2/trade_query.php", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
			// Count the documents without decoding them.
			return strings.Count(string(body), `"trade_no":`)
		})
	})
	for _, kind := range []string{Kind, KindQimen} {
		b.Run(kind, func(b *testing.B) {
			c := newClient(b, kind, srv, clk, nil)
			pullAll(b, func(f, t time.Time, no int) int {
				p, err := c.Pull(context.Background(), connector.PullRequest{API: APITrades, From: f, To: t, PageNo: no, PageSize: 100})
				if err != nil {
					b.Fatal(err)
				}
				return len(p.Docs)
			})
		})
	}
}

// BenchmarkSimPage asks for one page deep inside a window of n documents,
// in process: with the index the time per page does not grow with n.
func BenchmarkSimPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			clk := &clock{}
			sim := NewSim(simConfig(clk))
			from := at("2026-01-05 10:00:00")
			to := from.Add(time.Hour - time.Second)
			if _, err := sim.Generate(n, from, to, 9); err != nil {
				b.Fatal(err)
			}
			clk.Set(to.Add(time.Hour))
			p := map[string]string{"sid": testSID, "appkey": testAppKey, "timestamp": strconv.FormatInt(clk.Now().Unix(), 10),
				"start_time": from.Format(wdtTime), "end_time": to.Format(wdtTime), "page_no": strconv.Itoa(n / 200), "page_size": "100"}
			p["sign"] = SignOpenAPI(p, testSecret, SignChars)
			form := url.Values{}
			for k, v := range p {
				form.Set(k, v)
			}
			body := form.Encode()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/openapi2/trade_query.php", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				sim.ServeHTTP(w, req)
				if !strings.HasPrefix(w.Body.String(), `{"code":0,`) {
					b.Fatal(w.Body.String()[:100])
				}
			}
		})
	}
}
