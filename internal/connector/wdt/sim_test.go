package wdt

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/internal/order"
)

// openCall signs params as a client of the openapi2 route would (adding
// the public parameters unless given) and returns the decoded answer.
func openCall(t *testing.T, srv *httptest.Server, path string, now time.Time, params map[string]string, secret string) map[string]any {
	t.Helper()
	p := map[string]string{"sid": testSID, "appkey": testAppKey, "timestamp": strconv.FormatInt(now.Unix(), 10)}
	for k, v := range params {
		p[k] = v
	}
	if _, ok := p["sign"]; !ok {
		p["sign"] = SignOpenAPI(p, secret, SignChars)
	}
	return post(t, srv.URL+"/openapi2/"+path, p)
}

func qimenCall(t *testing.T, srv *httptest.Server, now time.Time, params map[string]string, secret string) map[string]any {
	t.Helper()
	p := map[string]string{"method": "wdt.trade.query", "app_key": testQMKey, "target_app_key": testQMTgt, "sid": testSID,
		"timestamp": now.In(gmt8).Format(wdtTime), "format": "json", "v": "2.0", "sign_method": "md5"}
	for k, v := range params {
		p[k] = v
	}
	if _, ok := p["sign"]; !ok {
		sign, err := SignTOP(p, secret, p["sign_method"])
		if err != nil {
			t.Fatal(err)
		}
		p["sign"] = sign
	}
	return post(t, srv.URL+"/router/qm", p)
}

func post(t *testing.T, target string, p map[string]string) map[string]any {
	t.Helper()
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	resp, err := http.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, body)
	}
	return out
}

func codeOf(m map[string]any) string {
	if r, ok := m["response"].(map[string]any); ok {
		if e, ok := r["errorcode"]; ok {
			return fmt.Sprint(e)
		}
		return fmt.Sprint(r["code"])
	}
	if e, ok := m["error_response"].(map[string]any); ok {
		return "top " + fmt.Sprint(e["code"])
	}
	return fmt.Sprint(m["code"])
}

func nosOf(m map[string]any) []string {
	if r, ok := m["response"].(map[string]any); ok {
		m = r
	}
	var out []string
	for _, key := range []string{"trades", "stockin_list"} {
		list, _ := m[key].([]any)
		for _, d := range list {
			doc := d.(map[string]any)
			if no, ok := doc["trade_no"].(string); ok && key == "trades" {
				out = append(out, no)
			} else if no, ok := doc["order_no"].(string); ok {
				out = append(out, no)
			}
		}
	}
	return out
}

func window(from, to string) map[string]string {
	return map[string]string{"start_time": from, "end_time": to, "page_no": "0", "page_size": "100"}
}

func trade(no, modified string) Trade {
	return Trade{TradeNo: no, Modified: modified, TradeTime: modified, TradeStatus: 30, ShopNo: "SHOP-TM", WarehouseNo: "WH-SH",
		GoodsList: []TradeLine{{SpecNo: "TS-BLK-M", Num: "1.0000", SharePrice: "59.0000", ShareAmount: "59.0000"}}}
}

// TestSimRefuses checks that the simulator refuses what 旺店通 refuses, with
// its codes, on both routes.
func TestSimRefuses(t *testing.T) {
	c := &clock{t: at("2026-01-05 12:00:00")}
	sim := NewSim(simConfig(c))
	srv := startSim(t, sim)
	now := c.Now()
	ok := window("2026-01-05 10:00:00", "2026-01-05 10:59:59")
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	cases := []struct {
		name string
		ans  map[string]any
		want string
	}{
		{"good call", openCall(t, srv, "trade_query.php", now, ok, testSecret), "0"},
		{"bad sign", openCall(t, srv, "trade_query.php", now, ok, "wrong"), "1102"},
		{"sign in uppercase", openCall(t, srv, "trade_query.php", now, with(ok, "sign", strings.ToUpper(SignOpenAPI(ok, testSecret, SignChars))), testSecret), "1102"},
		{"unknown sid", openCall(t, srv, "trade_query.php", now, with(ok, "sid", "other"), testSecret), "1100"},
		{"unknown appkey", openCall(t, srv, "trade_query.php", now, with(ok, "appkey", "other"), testSecret), "1101"},
		{"stale timestamp", openCall(t, srv, "trade_query.php", now.Add(-6*time.Minute), ok, testSecret), "1103"},
		{"timestamp from the future", openCall(t, srv, "trade_query.php", now.Add(6*time.Minute), ok, testSecret), "1103"},
		{"timestamp in milliseconds", openCall(t, srv, "trade_query.php", now, with(ok, "timestamp", strconv.FormatInt(now.UnixMilli(), 10)), testSecret), "1103"},
		{"span of 60 minutes and one second", openCall(t, srv, "trade_query.php", now, window("2026-01-05 10:00:00", "2026-01-05 11:00:01"), testSecret), "1105"},
		{"span of exactly 60 minutes", openCall(t, srv, "trade_query.php", now, window("2026-01-05 10:00:00", "2026-01-05 11:00:00"), testSecret), "0"},
		{"reversed window", openCall(t, srv, "trade_query.php", now, window("2026-01-05 10:00:00", "2026-01-05 09:00:00"), testSecret), "1105"},
		{"bad time format", openCall(t, srv, "trade_query.php", now, window("2026-01-05T10:00:00", "2026-01-05 10:59:59"), testSecret), "1105"},
		{"page of 101", openCall(t, srv, "trade_query.php", now, with(ok, "page_size", "101"), testSecret), "1105"},
		{"page of 0", openCall(t, srv, "trade_query.php", now, with(ok, "page_size", "0"), testSecret), "1105"},
		{"page number -1", openCall(t, srv, "trade_query.php", now, with(ok, "page_no", "-1"), testSecret), "1105"},
		{"empty business parameter", openCall(t, srv, "trade_query.php", now, with(ok, "shop_no", ""), testSecret), "1105"},
		{"no window", openCall(t, srv, "trade_query.php", now, map[string]string{"page_no": "0"}, testSecret), "1104"},
		{"stock-in without range or number", openCall(t, srv, "stockin_order_query_refund.php", now, map[string]string{"page_no": "0"}, testSecret), "2900"},
		{"stock-in span of 31 days", openCall(t, srv, "stockin_order_query_refund.php", now, window("2026-01-01 00:00:00", "2026-02-01 00:00:00"), testSecret), "1105"},
		{"stock-in span of 30 days", openCall(t, srv, "stockin_order_query_refund.php", now, window("2026-01-01 00:00:00", "2026-01-31 00:00:00"), testSecret), "0"},
		{"stock-in by number", openCall(t, srv, "stockin_order_query_refund.php", now, map[string]string{"stockin_no": "RK1", "page_no": "0", "page_size": "50"}, testSecret), "0"},

		{"qimen good call", qimenCall(t, srv, now, ok, testQMSecret), "0"},
		{"qimen hmac-sha256", qimenCall(t, srv, now, with(ok, "sign_method", "hmac-sha256"), testQMSecret), "0"},
		{"qimen hmac", qimenCall(t, srv, now, with(ok, "sign_method", "hmac"), testQMSecret), "0"},
		{"qimen router-id method", qimenCall(t, srv, now, with(ok, "method", "hu3cgwt0tc.wdt.trade.query"), testQMSecret), "0"},
		{"qimen stock-in method", qimenCall(t, srv, now, with(ok, "method", "wdt.stockin.order.query.refund"), testQMSecret), "0"},
		{"qimen bad sign", qimenCall(t, srv, now, ok, "wrong"), "top 25"},
		{"qimen stale timestamp", qimenCall(t, srv, now.Add(-11*time.Minute), ok, testQMSecret), "top 31"},
		{"qimen unknown app_key", qimenCall(t, srv, now, with(ok, "app_key", "999"), testQMSecret), "top 29"},
		{"qimen unknown target_app_key", qimenCall(t, srv, now, with(ok, "target_app_key", "999"), testQMSecret), "top 11"},
		{"qimen unknown method", qimenCall(t, srv, now, with(ok, "method", "wdt.trade.push"), testQMSecret), "top 22"},
		{"qimen version 1.0", qimenCall(t, srv, now, with(ok, "v", "1.0"), testQMSecret), "top 34"},
		{"qimen unknown sid", qimenCall(t, srv, now, with(ok, "sid", "other"), testQMSecret), "1100"},
		{"qimen span too wide", qimenCall(t, srv, now, window("2026-01-05 10:00:00", "2026-01-05 11:30:00"), testQMSecret), "1105"},
		{"qimen page too large", qimenCall(t, srv, now, with(ok, "page_size", "200"), testQMSecret), "1105"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(tc.ans); got != tc.want {
				t.Fatalf("code %s, want %s: %v", got, tc.want, tc.ans)
			}
			if tc.want != "0" {
				msg := fmt.Sprint(tc.ans["message"])
				if r, ok := tc.ans["response"].(map[string]any); ok {
					msg = fmt.Sprint(r["message"])
				}
				if e, ok := tc.ans["error_response"].(map[string]any); ok {
					msg = fmt.Sprint(e["sub_msg"])
				}
				if !hasHan(msg) {
					t.Errorf("refusal message %q is not in Chinese", msg)
				}
			}
		})
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func TestSimRefusesNonForm(t *testing.T) {
	sim := NewSim(simConfig(&clock{t: time.Now()}))
	srv := startSim(t, sim)
	for _, tc := range []struct{ method, ctype string }{{http.MethodGet, ""}, {http.MethodPost, "application/json"}} {
		req, _ := http.NewRequest(tc.method, srv.URL+"/openapi2/trade_query.php", strings.NewReader("{}"))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ans map[string]any
		json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if resp.StatusCode != 200 || codeOf(ans) != "1105" {
			t.Errorf("%s %q: HTTP %d %v; want HTTP 200 code 1105", tc.method, tc.ctype, resp.StatusCode, ans)
		}
	}
	resp, err := http.Get(srv.URL + "/openapi2/unknown.php")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown API: HTTP %d, want 404", resp.StatusCode)
	}
}

// TestSimLateVisible: a document whose modified time is already in the
// past becomes visible to queries only at its VisibleAt, as a row
// committed after a window was read.
func TestSimLateVisible(t *testing.T) {
	c := &clock{t: at("2026-01-05 10:30:00")}
	sim := NewSim(simConfig(c))
	srv := startSim(t, sim)
	late := trade("JY-LATE", "2026-01-05 10:10:00")
	late.VisibleAt = at("2026-01-05 10:33:00")
	if err := sim.PutTrades(trade("JY-ON-TIME", "2026-01-05 10:10:00"), late); err != nil {
		t.Fatal(err)
	}
	w := window("2026-01-05 10:00:00", "2026-01-05 10:59:59")
	steps := []struct {
		now  string
		want []string
	}{
		{"2026-01-05 10:30:00", []string{"JY-ON-TIME"}},
		{"2026-01-05 10:32:59", []string{"JY-ON-TIME"}},
		{"2026-01-05 10:33:00", []string{"JY-LATE", "JY-ON-TIME"}},
	}
	for _, s := range steps {
		c.Set(at(s.now))
		ans := openCall(t, srv, "trade_query.php", c.Now(), w, testSecret)
		if got := nosOf(ans); fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("at %s: %v, want %v", s.now, got, s.want)
		}
		if n := ans["total_count"].(float64); int(n) != len(s.want) {
			t.Errorf("at %s: total_count %v, want %d", s.now, n, len(s.want))
		}
		// The lookup by number hides it too.
		byNo := openCall(t, srv, "trade_query.php", c.Now(), map[string]string{"trade_no": "JY-LATE"}, testSecret)
		if wantLate := len(s.want) == 2; (len(nosOf(byNo)) == 1) != wantLate {
			t.Errorf("at %s: lookup of JY-LATE gave %v", s.now, nosOf(byNo))
		}
	}
	// A late document in another window hides nothing here; a late one
	// replaced by a version visible at once is visible at once.
	c.Set(at("2026-01-05 10:40:00"))
	other := trade("JY-OTHER-HOUR", "2026-01-05 09:10:00")
	other.VisibleAt = at("2026-01-05 11:00:00")
	again := trade("JY-AGAIN", "2026-01-05 10:20:00")
	again.VisibleAt = at("2026-01-05 11:00:00")
	if err := sim.PutTrades(other, again); err != nil {
		t.Fatal(err)
	}
	if got := nosOf(openCall(t, srv, "trade_query.php", c.Now(), w, testSecret)); fmt.Sprint(got) != "[JY-LATE JY-ON-TIME]" {
		t.Errorf("with JY-AGAIN hidden: %v", got)
	}
	again.VisibleAt = time.Time{}
	if err := sim.PutTrades(again); err != nil {
		t.Fatal(err)
	}
	if got := nosOf(openCall(t, srv, "trade_query.php", c.Now(), w, testSecret)); fmt.Sprint(got) != "[JY-LATE JY-ON-TIME JY-AGAIN]" {
		t.Errorf("after JY-AGAIN was replaced by a visible version: %v", got)
	}
}

// TestSimGenerateNumbersRunOn: a simulator's repeated Generate calls
// never reuse a number, whatever the seeds.
func TestSimGenerateNumbersRunOn(t *testing.T) {
	sim := NewSim(simConfig(&clock{t: at("2026-01-06 00:00:00")}))
	from := at("2026-01-05 10:00:00")
	a, _ := sim.Generate(300, from, from.Add(time.Hour), 1)
	b, _ := sim.Generate(300, from, from.Add(time.Hour), 1)
	if n, s := sim.Len(); n != 600 || s != len(a.Stockins)+len(b.Stockins) {
		t.Fatalf("the simulator holds %d trades and %d stock-ins after two calls, want 600 and %d", n, s, len(a.Stockins)+len(b.Stockins))
	}
}

// TestSimTiesAndEdges: documents sharing a second page out exactly once
// in a stable order, and a window's inclusive edges hold hh:00:00 and
// hh:59:59 but not the next hour's first second.
func TestSimTiesAndEdges(t *testing.T) {
	c := &clock{t: at("2026-01-05 12:00:00")}
	sim := NewSim(simConfig(c))
	srv := startSim(t, sim)
	var docs []Trade
	for i := 0; i < 250; i++ {
		docs = append(docs, trade(fmt.Sprintf("JY-TIE-%03d", i), "2026-01-05 10:59:59"))
	}
	docs = append(docs, trade("JY-FIRST", "2026-01-05 10:00:00"), trade("JY-NEXT-HOUR", "2026-01-05 11:00:00"), trade("JY-BEFORE", "2026-01-05 09:59:59"))
	if err := sim.PutTrades(docs...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var order []string
	for page := 0; page < 4; page++ {
		p := window("2026-01-05 10:00:00", "2026-01-05 10:59:59")
		p["page_no"] = strconv.Itoa(page)
		ans := openCall(t, srv, "trade_query.php", c.Now(), p, testSecret)
		if int(ans["total_count"].(float64)) != 251 {
			t.Fatalf("page %d: total_count %v, want 251", page, ans["total_count"])
		}
		for _, no := range nosOf(ans) {
			seen[no]++
			order = append(order, no)
		}
	}
	if len(order) != 251 || len(seen) != 251 || seen["JY-FIRST"] != 1 || seen["JY-NEXT-HOUR"] != 0 || seen["JY-BEFORE"] != 0 {
		t.Fatalf("read %d documents (%d distinct), first %d, next hour %d, before %d", len(order), len(seen), seen["JY-FIRST"], seen["JY-NEXT-HOUR"], seen["JY-BEFORE"])
	}
	if order[0] != "JY-FIRST" || order[1] != "JY-TIE-000" || order[250] != "JY-TIE-249" {
		t.Fatalf("order %v … %v; want modified, then number", order[:2], order[250])
	}
	next := openCall(t, srv, "trade_query.php", c.Now(), window("2026-01-05 11:00:00", "2026-01-05 11:59:59"), testSecret)
	if fmt.Sprint(nosOf(next)) != "[JY-NEXT-HOUR]" {
		t.Fatalf("next hour holds %v", nosOf(next))
	}
}

// TestSimMutation: a document given a new modified time leaves its old
// window and appears in the new one, once.
func TestSimMutation(t *testing.T) {
	c := &clock{t: at("2026-01-05 12:00:00")}
	sim := NewSim(simConfig(c))
	srv := startSim(t, sim)
	if err := sim.PutTrades(trade("JY-1", "2026-01-05 10:10:00"), trade("JY-2", "2026-01-05 10:20:00")); err != nil {
		t.Fatal(err)
	}
	if err := sim.TouchTrade("JY-1", at("2026-01-05 11:05:00")); err != nil {
		t.Fatal(err)
	}
	old := openCall(t, srv, "trade_query.php", c.Now(), window("2026-01-05 10:00:00", "2026-01-05 10:59:59"), testSecret)
	moved := openCall(t, srv, "trade_query.php", c.Now(), window("2026-01-05 11:00:00", "2026-01-05 11:59:59"), testSecret)
	if fmt.Sprint(nosOf(old)) != "[JY-2]" || fmt.Sprint(nosOf(moved)) != "[JY-1]" {
		t.Fatalf("old window %v, new window %v", nosOf(old), nosOf(moved))
	}
	if n, _ := sim.Len(); n != 2 {
		t.Fatalf("the simulator holds %d trades, want 2", n)
	}
	if err := sim.TouchTrade("JY-NONE", c.Now()); err == nil {
		t.Fatal("touching an unknown trade gave no error")
	}
	if err := sim.PutTrades(Trade{TradeNo: "JY-BAD", Modified: "yesterday"}); err == nil || !strings.Contains(err.Error(), "JY-BAD") {
		t.Fatalf("a bad modified time: %v", err)
	}
}

// TestSimCallsPerMinute: the call over the per-minute limit is answered
// 1012 on both routes; the next minute is free again.
func TestSimCallsPerMinute(t *testing.T) {
	c := &clock{t: at("2026-01-05 12:00:10")}
	cfg := simConfig(c)
	cfg.CallsPerMinute = 2
	sim := NewSim(cfg)
	srv := startSim(t, sim)
	w := window("2026-01-05 10:00:00", "2026-01-05 10:59:59")
	var got []string
	for i := 0; i < 3; i++ {
		got = append(got, codeOf(openCall(t, srv, "trade_query.php", c.Now(), w, testSecret)))
	}
	for i := 0; i < 3; i++ {
		got = append(got, codeOf(qimenCall(t, srv, c.Now(), w, testQMSecret)))
	}
	c.Set(at("2026-01-05 12:01:00"))
	got = append(got, codeOf(openCall(t, srv, "trade_query.php", c.Now(), w, testSecret)))
	if want := "[0 0 1012 0 0 1012 0]"; fmt.Sprint(got) != want {
		t.Fatalf("codes %v, want %s", got, want)
	}
}

func TestSimTotalOnPageZeroOnly(t *testing.T) {
	c := &clock{t: at("2026-01-05 12:00:00")}
	cfg := simConfig(c)
	cfg.TotalOnPageZeroOnly = true
	sim := NewSim(cfg)
	srv := startSim(t, sim)
	sim.PutTrades(trade("JY-1", "2026-01-05 10:10:00"))
	w := window("2026-01-05 10:00:00", "2026-01-05 10:59:59")
	if _, ok := openCall(t, srv, "trade_query.php", c.Now(), w, testSecret)["total_count"]; !ok {
		t.Error("page 0 has no total_count")
	}
	w["page_no"] = "1"
	if _, ok := openCall(t, srv, "trade_query.php", c.Now(), w, testSecret)["total_count"]; ok {
		t.Error("page 1 has total_count")
	}
}

// TestGenerateShape: generated data has what the sim promises: edges,
// ties, late rows, refunds, catalog codes only, and is repeatable.
func TestGenerateShape(t *testing.T) {
	from := at("2026-01-05 00:00:00")
	to := from.Add(24*time.Hour - time.Second)
	d := Generate(2000, from, to, 3)
	again := Generate(2000, from, to, 3)
	if fmt.Sprint(d.Trades[1999]) != fmt.Sprint(again.Trades[1999]) {
		t.Fatal("the same seed gave different data")
	}
	cat := DefaultCatalog()
	codes := map[string]bool{}
	for _, s := range cat.Shops {
		codes[s.No] = true
	}
	for _, w := range cat.Warehouses {
		codes[w.No] = true
	}
	for _, g := range cat.Goods {
		codes[g.SpecNo] = true
	}
	var first, last, late int
	seconds := map[string]int{}
	nos := map[string]bool{}
	for _, tr := range d.Trades {
		m := at(tr.Modified)
		if m.Before(from) || m.After(to) {
			t.Fatalf("trade %s modified %s outside the range", tr.TradeNo, tr.Modified)
		}
		if nos[tr.TradeNo] {
			t.Fatalf("trade number %s twice", tr.TradeNo)
		}
		nos[tr.TradeNo] = true
		switch m.Format("04:05") {
		case "00:00":
			first++
		case "59:59":
			last++
		}
		if !tr.VisibleAt.IsZero() {
			late++
		}
		seconds[tr.Modified]++
		if !codes[tr.ShopNo] || !codes[tr.WarehouseNo] {
			t.Fatalf("trade %s uses shop %s / warehouse %s outside the catalog", tr.TradeNo, tr.ShopNo, tr.WarehouseNo)
		}
		for _, g := range tr.GoodsList {
			if !codes[g.SpecNo] {
				t.Fatalf("trade %s sells %s, outside the catalog", tr.TradeNo, g.SpecNo)
			}
		}
		o, err := normalizeTrade(&tr, shanghai)
		if err != nil {
			t.Fatalf("generated trade does not normalize: %v", err)
		}
		var lines order.Money
		for _, it := range o.Items {
			lines += it.Total
		}
		if lines+o.Freight != o.Total {
			t.Fatalf("trade %s: lines %v + freight %v != receivable %v", tr.TradeNo, lines, o.Freight, o.Total)
		}
	}
	ties := 0
	for _, n := range seconds {
		if n > 1 {
			ties += n
		}
	}
	if first < 100 || last < 100 || late < 40 || ties < 200 || len(d.Stockins) < 100 {
		t.Fatalf("edges %d/%d, late %d, tied %d, stock-ins %d: the data lacks the hard cases", first, last, late, ties, len(d.Stockins))
	}
	for _, s := range d.Stockins {
		if _, err := normalizeStockin(&s, shanghai); err != nil {
			t.Fatalf("generated stock-in does not normalize: %v", err)
		}
		if !nos[s.TradeNo] || at(s.Modified).After(to) {
			t.Fatalf("stock-in %s: trade %s, modified %s", s.OrderNo, s.TradeNo, s.Modified)
		}
	}
}

// TestSimSignLengthBytes: a simulator counting bytes accepts W-2's byte
// signature and refuses its character one, and the other way round.
func TestSimSignLengthBytes(t *testing.T) {
	c := &clock{t: time.Unix(1700000000, 0)}
	w2 := map[string]string{"start_time": "2024-11-11 10:00:00", "end_time": "2024-11-11 10:59:59", "page_no": "0", "page_size": "100", "shop_no": "店铺A"}
	for _, unit := range []SignLength{SignChars, SignBytes} {
		cfg := simConfig(c)
		cfg.SignLength = unit
		srv := startSim(t, NewSim(cfg))
		for _, sign := range []string{"76c6171f616adc64ec0fcbd219d183e8", "611b975dc7abe30646f9d37a7eb9634b"} {
			p := map[string]string{"sign": sign}
			for k, v := range w2 {
				p[k] = v
			}
			want := "1102"
			if (unit == SignChars) == (sign == "76c6171f616adc64ec0fcbd219d183e8") {
				want = "0"
			}
			if got := codeOf(openCall(t, srv, "trade_query.php", c.Now(), p, "")); got != want {
				t.Errorf("server counting %s, sign %s: code %s, want %s", unit, sign, got, want)
			}
		}
	}
}
