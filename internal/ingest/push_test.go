package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector/mall"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// hookBody is a canonical order as a webhook sender posts it.
const hookBody = `{"order_no":"H1","status":"paid","total":"12.50","created_at":"2026-11-25T17:58:09+08:00"}`

// oversized is a mall document padded past the limit.
func oversized(e *env) []byte {
	d := e.gen.New(time.Now())
	d.Remark = strings.Repeat("x", maxBody)
	return mall.Body(d)
}

// Bad input gets a clear answer, one log line, one count, and changes nothing.
func TestPushRejects(t *testing.T) {
	type badCase struct {
		name     string
		source   string
		body     func(e *env) []byte
		opts     func(e *env, body []byte) []pushOpt
		status   int
		code     string
		field    string
		title    string // the title says this
		detail   string // the detail says this
		offset   int64  // -1: > 0; >0: exactly
		label    string // the source label counted; the source when empty
		chunked  bool   // the request must have gone without Content-Length
		withSize bool   // the request must have carried Content-Length
	}
	shopDoc := func(f func(d *mall.Order)) func(e *env) []byte {
		return func(e *env) []byte {
			d := e.gen.New(time.Now())
			if f != nil {
				f(d)
			}
			return mall.Body(d)
		}
	}
	raw := func(s string) func(e *env) []byte { return func(*env) []byte { return []byte(s) } }
	signNow := func(secret string, shift time.Duration) func(e *env, body []byte) []pushOpt {
		return func(e *env, body []byte) []pushOpt {
			return []pushOpt{signedHook(secret, time.Now().Add(shift), body)}
		}
	}
	chunk := func(*env, []byte) []pushOpt { return []pushOpt{chunked} }
	for _, tc := range []badCase{
		{name: "unknown source", source: "nope", body: shopDoc(nil), status: 404, code: "unknown_source",
			title: `no push source is named "nope"`, detail: "push to one of: hook, shop", label: "(unknown)"},
		{name: "mall wrong app_sign", source: "shop", body: shopDoc(func(d *mall.Order) { d.AppSign = "another-shops-sign-000" }),
			status: 401, code: "bad_signature", field: "app_sign", title: "app_sign does not match"},
		{name: "mall missing app_sign", source: "shop", body: shopDoc(func(d *mall.Order) { d.AppSign = "" }),
			status: 401, code: "missing_signature", field: "app_sign", title: "no app_sign"},
		{name: "webhook no signature headers", source: "hook", body: raw(hookBody),
			status: 401, code: "missing_signature", title: "X-Orderhub-Signature"},
		{name: "webhook wrong secret", source: "hook", body: raw(hookBody), opts: signNow("whsec_not_the_right_one_00", 0),
			status: 401, code: "bad_signature", title: "does not match"},
		{name: "webhook stale timestamp", source: "hook", body: raw(hookBody), opts: signNow(hookSecret, -6*time.Minute),
			status: 401, code: "stale_timestamp", title: "away from the server's clock"},
		{name: "webhook future timestamp", source: "hook", body: raw(hookBody), opts: signNow(hookSecret, 6*time.Minute),
			status: 401, code: "stale_timestamp"},
		{name: "mall truncated JSON", source: "shop", body: func(e *env) []byte { return shopDoc(nil)(e)[:300] },
			status: 400, code: "malformed_json", title: "not valid JSON", offset: 300},
		{name: "mall syntax error", source: "shop", body: raw(`{"order_no": "1", "is_pay": 1 "x"}`),
			status: 400, code: "malformed_json", title: "at byte 31 (line 1, column 31)", offset: 31},
		{name: "webhook trailing garbage", source: "hook", body: raw(hookBody + "}"), opts: signNow(hookSecret, 0),
			status: 400, code: "malformed_json", title: "after top-level value", offset: int64(len(hookBody)) + 1},
		{name: "webhook truncated", source: "hook", body: raw(hookBody[:50]), opts: signNow(hookSecret, 0),
			status: 400, code: "malformed_json", offset: 50},
		{name: "mall empty body", source: "shop", body: raw(""), status: 400, code: "malformed_json", title: "empty"},
		{name: "mall too large with Content-Length", source: "shop", body: oversized,
			status: 413, code: "body_too_large", title: "larger than this source's limit of 1048576 bytes", withSize: true},
		{name: "mall too large chunked", source: "shop", body: oversized, opts: chunk,
			status: 413, code: "body_too_large", title: "limit of 1048576 bytes", chunked: true},
		{name: "webhook too large chunked", source: "hook", body: oversized, opts: chunk,
			status: 413, code: "body_too_large", chunked: true},
		{name: "mall missing order_no", source: "shop", body: shopDoc(func(d *mall.Order) { d.OrderNo = "" }),
			status: 422, code: "missing_field", field: "order_no", title: "required field order_no"},
		{name: "mall missing total_pay_price", source: "shop", body: shopDoc(func(d *mall.Order) { d.TotalPayPrice = nil }),
			status: 422, code: "missing_field", field: "total_pay_price"},
		{name: "mall bad quantity", source: "shop", body: shopDoc(func(d *mall.Order) { d.Detail[0].Num = 0 }),
			status: 422, code: "invalid_field", field: "detail[0].num"},
		{name: "webhook missing created_at", source: "hook", body: raw(`{"order_no":"H1","status":"paid"}`), opts: signNow(hookSecret, 0),
			status: 422, code: "missing_field", field: "created_at"},
		{name: "webhook unknown field", source: "hook", body: raw(strings.Replace(hookBody, `"status"`, `"colour":"red","status"`, 1)), opts: signNow(hookSecret, 0),
			status: 422, code: "unknown_field", field: "colour"},
		{name: "webhook bad money", source: "hook", body: raw(strings.Replace(hookBody, `"12.50"`, `"12.505"`, 1)), opts: signNow(hookSecret, 0),
			status: 422, code: "invalid_field", field: "total"},
		// Money, order numbers and times that no real order has.
		{name: "mall negative total_pay_price", source: "shop", body: shopDoc(func(d *mall.Order) { d.TotalPayPrice = strp("-5.00") }),
			status: 422, code: "invalid_field", field: "total_pay_price", title: "total_pay_price is negative: -5.00", detail: "never negative"},
		{name: "mall negative unit_price", source: "shop", body: shopDoc(func(d *mall.Order) { d.Detail[0].UnitPrice = strp("-5999.00") }),
			status: 422, code: "invalid_field", field: "detail[0].unit_price", title: "detail[0].unit_price is negative: -5999.00"},
		{name: "webhook negative total", source: "hook", body: raw(strings.Replace(hookBody, `"12.50"`, `"-5.00"`, 1)), opts: signNow(hookSecret, 0),
			status: 422, code: "invalid_field", field: "total", title: "total is negative"},
		{name: "mall order_no of 10000 characters", source: "shop", body: shopDoc(func(d *mall.Order) { d.OrderNo = strings.Repeat("7", 10000) }),
			status: 422, code: "invalid_field", field: "order_no", title: "order_no is 10000 characters long, more than the 64 allowed", detail: "1 to 64 printable characters"},
		{name: "mall order_no with NUL", source: "shop", body: shopDoc(func(d *mall.Order) { d.OrderNo = "T1\x00" }),
			status: 422, code: "invalid_field", field: "order_no", title: "U+0000"},
		{name: "webhook order_no with U+202E", source: "hook", body: raw(strings.Replace(hookBody, `"H1"`, `"H1\u202e9"`, 1)), opts: signNow(hookSecret, 0),
			status: 422, code: "invalid_field", field: "order_no", title: "U+202E"},
		{name: "mall zero created_at", source: "shop", body: shopDoc(func(d *mall.Order) { d.CreatedAt = "0000-00-00 00:00:00" }),
			status: 422, code: "invalid_field", field: "created_at", title: `"never" date`},
		// One reading of the body only.
		{name: "mall app_sign twice", source: "shop", body: func(e *env) []byte {
			return bytes.Replace(shopDoc(nil)(e), []byte(`"app_sign":"`), []byte(`"app_sign":"x","app_sign":"`), 1)
		}, status: 400, code: "duplicate_key", field: "app_sign", title: `the key "app_sign" appears twice`, offset: -1},
		{name: "webhook key twice", source: "hook", body: raw(strings.Replace(hookBody, `"status":"paid"`, `"status":"paid","status":"created"`, 1)), opts: signNow(hookSecret, 0),
			status: 400, code: "duplicate_key", field: "status", offset: int64(len(`{"order_no":"H1","status":"paid",`)) + 1},
		{name: "mall created_at in another case", source: "shop", body: func(e *env) []byte {
			return bytes.Replace(shopDoc(nil)(e), []byte(`"created_at"`), []byte(`"CreAted_At"`), 1)
		}, status: 422, code: "unknown_field", field: "CreAted_At", title: `differs from "created_at" only in case`},
		{name: "webhook key in another case", source: "hook", body: raw(strings.Replace(hookBody, `"status"`, `"Status"`, 1)), opts: signNow(hookSecret, 0),
			status: 422, code: "unknown_field", field: "Status"},
		// Not an order object: one answer, whatever the source.
		{name: "mall null", source: "shop", body: raw(`null`), status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
		{name: "mall array", source: "shop", body: raw(`[{"order_no":"1"}]`), status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
		{name: "mall wrapped order", source: "shop", body: func(e *env) []byte { return append(append([]byte(`{"order":`), shopDoc(nil)(e)...), '}') },
			status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
		{name: "mall bare deep object", source: "shop", body: raw(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)),
			status: 400, code: "not_an_object", title: `the body must be a JSON object: this one is an object with none of the order's fields (it has "a")`, offset: 1},
		{name: "webhook bare deep object", source: "hook", body: raw(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)),
			status: 400, code: "not_an_object", title: `the body must be a JSON object: this one is an object with none of the order's fields (it has "a")`, offset: 1},
		{name: "mall nesting too deep", source: "shop", body: raw(strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000)),
			status: 400, code: "malformed_json", title: "exceeded max depth", offset: 10001},
		{name: "webhook null unsigned", source: "hook", body: raw(`null`), status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
		{name: "webhook array unsigned", source: "hook", body: raw(`[` + hookBody + `]`), status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
		{name: "webhook wrapped order unsigned", source: "hook", body: raw(`{"order":` + hookBody + `}`), status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
		{name: "webhook wrapped order signed", source: "hook", body: raw(`{"order":` + hookBody + `}`), opts: signNow(hookSecret, 0),
			status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
		{name: "webhook null signed", source: "hook", body: raw(`null`), opts: signNow(hookSecret, 0), status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// One order already stored, so "nothing changed" is not trivially
			// an empty database.
			if a := e.push("shop", mall.Body(e.gen.New(time.Now()))); a.status != http.StatusCreated {
				t.Fatalf("setup push: %d %s", a.status, a.body)
			}
			before := e.count()
			linesBefore := len(e.logs.Records(t))

			body := tc.body(e)
			var opts []pushOpt
			if tc.opts != nil {
				opts = tc.opts(e, body)
			}
			a := e.push(tc.source, body, opts...)

			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			if !strings.HasPrefix(a.contentType, "application/problem+json") {
				t.Errorf("Content-Type %q, want application/problem+json", a.contentType)
			}
			var p problem.Problem
			if err := json.Unmarshal(a.body, &p); err != nil {
				t.Fatalf("answer is not a problem document: %v: %s", err, a.body)
			}
			if p.Status != tc.status || p.Code != tc.code || p.Field != tc.field {
				t.Errorf("problem status %d code %q field %q, want %d %q %q: %s", p.Status, p.Code, p.Field, tc.status, tc.code, tc.field, a.body)
			}
			if !strings.Contains(p.Title, tc.title) || p.Title == "" {
				t.Errorf("title %q does not say %q", p.Title, tc.title)
			}
			if !strings.Contains(p.Detail, tc.detail) || p.Detail == "" {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detail)
			}
			switch {
			case tc.offset == -1 && p.Offset <= 0:
				t.Errorf("offset %d, want > 0", p.Offset)
			case tc.offset > 0 && p.Offset != tc.offset:
				t.Errorf("offset %d, want %d", p.Offset, tc.offset)
			}

			e.last.mu.Lock()
			cl, te := e.last.contentLength, e.last.transferEncoding
			e.last.mu.Unlock()
			if tc.chunked && (cl != -1 || !slices.Contains(te, "chunked")) {
				t.Errorf("the request was not chunked: Content-Length %d, Transfer-Encoding %v", cl, te)
			}
			if tc.withSize && cl != int64(len(body)) {
				t.Errorf("the request carried Content-Length %d, want %d", cl, len(body))
			}

			// Nothing was written.
			if after := e.count(); after != before {
				t.Errorf("store changed: %+v → %+v", before, after)
			}
			// Exactly one count, under the source and the reason.
			label := tc.label
			if label == "" {
				label = tc.source
			}
			want := map[string]float64{"reason=" + tc.code + ",source=" + label: 1}
			if got := e.series("orderhub_push_rejected_total"); !equalSeries(got, want) {
				t.Errorf("orderhub_push_rejected_total = %s, want %s", fmtSeries(got), fmtSeries(want))
			}
			reqs := e.series("orderhub_push_requests_total")
			if reqs["outcome="+tc.code+",source="+label] != 1 {
				t.Errorf("orderhub_push_requests_total = %s, want the rejection counted once", fmtSeries(reqs))
			}
			// Exactly one log line, saying what was refused.
			lines := e.logs.Records(t)[linesBefore:]
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %v", len(lines), lines)
			}
			l := lines[0]
			if l["msg"] != "push rejected" || l["level"] != "WARN" || l["source"] != label || l["code"] != tc.code ||
				l["status"] != float64(tc.status) || l["field"] != tc.field {
				t.Errorf("log line %v", l)
			}
		})
	}
}

// A body of exactly the limit is read, with or without Content-Length.
func TestPushAtLimit(t *testing.T) {
	e := newEnv(t)
	for _, opts := range [][]pushOpt{nil, {chunked}} {
		d := e.gen.New(time.Now())
		d.Remark = ""
		d.Remark = strings.Repeat("x", maxBody-len(mall.Body(d)))
		body := mall.Body(d)
		if len(body) != maxBody {
			t.Fatalf("fixture: %d bytes", len(body))
		}
		if a := e.push("shop", body, opts...); a.status != http.StatusCreated {
			t.Fatalf("a body of exactly max_body: %d %s", a.status, a.body)
		}
	}
}

func decodeAnswer(t *testing.T, a answer) PushAnswer {
	t.Helper()
	if !strings.HasPrefix(a.contentType, "application/json") {
		t.Fatalf("Content-Type %q: %s", a.contentType, a.body)
	}
	var pa PushAnswer
	if err := json.Unmarshal(a.body, &pa); err != nil {
		t.Fatalf("answer %s: %v", a.body, err)
	}
	if pa.Events == nil {
		t.Fatalf("events is null, want a list: %s", a.body)
	}
	return pa
}

func TestPushLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, e.loc)
	d := e.gen.New(t0)
	d.IsPay, d.PayTime, d.UpdatedAt = 1, "2026-11-25 10:01:00", "2026-11-25 10:01:00"
	paid := mall.Body(d)

	step := func(name string, body []byte, status int, want PushAnswer, counts store.Counts) {
		t.Helper()
		a := e.push("shop", body)
		if a.status != status {
			t.Fatalf("%s: status %d, want %d: %s", name, a.status, status, a.body)
		}
		got := decodeAnswer(t, a)
		want.Source, want.OrderNo = "shop", d.OrderNo
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: answer %+v, want %+v", name, got, want)
		}
		if c := e.count(); c != counts {
			t.Fatalf("%s: counts %+v, want %+v", name, c, counts)
		}
	}
	step("first push", paid, 201, PushAnswer{Result: store.ResultCreated, Version: 1, Events: []string{"created", "paid"}}, store.Counts{Orders: 1, Versions: 1, Events: 2})
	step("same body", paid, 200, PushAnswer{Result: store.ResultDuplicate, Version: 1, Events: []string{}}, store.Counts{Orders: 1, Versions: 1, Events: 2})

	shippedDoc := *d
	shippedDoc.IsSend, shippedDoc.SendTime, shippedDoc.UpdatedAt = 1, "2026-11-25 12:00:00", "2026-11-25 12:00:00"
	shippedDoc.Express, shippedDoc.ExpressNo = "顺丰速运", "SF1234567890"
	step("shipped", mall.Body(&shippedDoc), 200, PushAnswer{Result: store.ResultUpdated, Version: 2, Events: []string{"shipped"}}, store.Counts{Orders: 1, Versions: 2, Events: 3})

	// A late copy of the paid version, changed (so not a duplicate) but older
	// than what is stored.
	late := *d
	late.Remark = "请尽快发货"
	step("older updated_at", mall.Body(&late), 200, PushAnswer{Result: store.ResultStale, Version: 2, Events: []string{}}, store.Counts{Orders: 1, Versions: 2, Events: 3, Steps: 1})

	// Advancing with the generator reaches completed.
	completed := shippedDoc
	if !e.gen.Advance(&completed, t0.Add(48*time.Hour)) || completed.IsConfirm != 1 {
		t.Fatalf("Advance did not confirm receipt: %+v", completed)
	}
	step("completed", mall.Body(&completed), 200, PushAnswer{Result: store.ResultUpdated, Version: 3, Events: []string{"completed"}}, store.Counts{Orders: 1, Versions: 3, Events: 4, Steps: 1})

	rec, err := e.store.GetOrder(ctx, "shop", d.OrderNo)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Order.Status != "completed" || rec.Version != 3 || rec.Order.Source != "shop" || rec.Order.Shipping.TrackingNo != "SF1234567890" {
		t.Fatalf("stored %+v version %d", rec.Order, rec.Version)
	}
	vs, err := e.store.Versions(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if bytes.Contains(v.Raw, []byte(mallSign)) {
			t.Fatalf("version %d keeps the app_sign", v.Version)
		}
	}

	wantPushes := map[string]float64{"outcome=created,source=shop": 1, "outcome=duplicate,source=shop": 1, "outcome=updated,source=shop": 2, "outcome=stale,source=shop": 1}
	if got := e.series("orderhub_push_requests_total"); !equalSeries(got, wantPushes) {
		t.Errorf("orderhub_push_requests_total = %s, want %s", fmtSeries(got), fmtSeries(wantPushes))
	}
	wantEvents := map[string]float64{"type=created": 1, "type=paid": 1, "type=shipped": 1, "type=completed": 1}
	if got := e.series("orderhub_order_events_total"); !equalSeries(got, wantEvents) {
		t.Errorf("orderhub_order_events_total = %s, want %s", fmtSeries(got), fmtSeries(wantEvents))
	}
	if got := e.series("orderhub_push_rejected_total"); len(got) != 0 {
		t.Errorf("rejections counted on good pushes: %s", fmtSeries(got))
	}
	if got := e.series("orderhub_push_duration_seconds"); got["source=shop"] != 5 {
		t.Errorf("push latency observed %s, want 5 for shop", fmtSeries(got))
	}
	for _, l := range e.logs.Records(t) {
		if l["level"] != "INFO" && l["level"] != "DEBUG" {
			t.Errorf("good pushes logged %v", l)
		}
	}
}

func TestPushWebhook(t *testing.T) {
	e := newEnv(t)
	a := e.push("hook", []byte(hookBody), signedHook(hookSecret, time.Now(), []byte(hookBody)))
	if a.status != 201 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	got := decodeAnswer(t, a)
	if got.Source != "hook" || got.OrderNo != "H1" || got.Result != store.ResultCreated || !slices.Equal(got.Events, []string{"created", "paid"}) {
		t.Fatalf("answer %+v", got)
	}
	// The same order number from another source is another order.
	d := e.gen.New(time.Now())
	d.OrderNo = "H1"
	if a := e.push("shop", mall.Body(d)); a.status != 201 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if c := e.count(); c.Orders != 2 {
		t.Fatalf("counts %+v", c)
	}
	rec, err := e.store.GetOrder(context.Background(), "hook", "H1")
	if err != nil || rec.Order.Total != 1250 || rec.Order.Source != "hook" {
		t.Fatalf("stored %+v, %v", rec, err)
	}
}

// Concurrent pushes share transactions and every one is stored.
func TestPushConcurrent(t *testing.T) {
	e := newEnv(t)
	const workers, each = 64, 20
	bodies := make([][][]byte, workers)
	for w := range bodies {
		g := mall.NewGenerator(uint64(w+100), mallSign, e.loc, fmt.Sprintf("C%02d-", w))
		for i := range each {
			bodies[w] = append(bodies[w], mall.Body(g.New(time.Now().Add(time.Duration(i)*time.Second))))
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	start := make(chan struct{})
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for _, b := range bodies[w] {
				resp, err := client.Post(e.srv.URL+"/v1/push/shop", "application/json", bytes.NewReader(b))
				if err != nil {
					errs <- err
					continue
				}
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Errorf("status %d: %s", resp.StatusCode, buf.Bytes())
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c := e.count(); c.Orders != workers*each || c.Versions != workers*each || c.Events != workers*each {
		t.Fatalf("counts %+v, want %d orders, versions and (created) events", c, workers*each)
	}
	n, sum, buckets := e.histogram("orderhub_ingest_batch_size")
	if sum != workers*each {
		t.Fatalf("batch sizes add up to %g, want %d", sum, workers*each)
	}
	if buckets[1] >= n {
		t.Fatalf("all %d batches had one document: no group commit (buckets %v)", n, buckets)
	}
	t.Logf("%d documents in %d transactions", workers*each, n)
}

func strp(s string) *string { return &s }

// What a sender wrote reaches the log escaped and clipped: a 10,000-character
// order number or a NUL cannot make a log line long or forge another.
func TestPushLogCapsSenderText(t *testing.T) {
	e := newEnv(t)
	for _, no := range []string{strings.Repeat("7", 10000), "A\x00B\u202eC\nlevel=ERROR"} {
		before := len(e.logs.Records(t))
		d := e.gen.New(time.Now())
		d.Remark = strings.Repeat("r", 5000)
		d.PayTime = no // quoted in the problem's title
		if a := e.push("shop", mall.Body(d)); a.status != 422 {
			t.Fatalf("status %d: %s", a.status, a.body)
		}
		if a := e.push("shop", []byte(`{"`+strings.Repeat("k", 5000)+`":1,"`+strings.Repeat("k", 5000)+`":2}`)); a.status != 400 {
			t.Fatalf("status %d: %s", a.status, a.body)
		}
		lines := e.logs.Records(t)[before:]
		if len(lines) != 2 {
			t.Fatalf("%d log lines, want 2", len(lines))
		}
		for _, l := range lines {
			b, _ := json.Marshal(l)
			if len(b) > 1024 {
				t.Errorf("log line of %d bytes: %s", len(b), b)
			}
			for _, k := range []string{"title", "field"} {
				v, _ := l[k].(string)
				if strings.ContainsAny(v, "\x00\u202e\n") {
					t.Errorf("log %s carries raw control characters: %q", k, v)
				}
			}
		}
	}
}

// Totals that disagree with the lines are accepted as sent; the answer, the
// timeline, a metric and one log line say so, once per stored version.
func TestPushWarning(t *testing.T) {
	e := newEnv(t)
	d := e.gen.New(time.Now())
	d.TotalGoodsPrice = strp("999.00")
	body := mall.Body(d)
	before := len(e.logs.Records(t))

	a := e.push("shop", body)
	if a.status != http.StatusCreated {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	pa := decodeAnswer(t, a)
	if len(pa.Warnings) != 1 || pa.Warnings[0].Code != "totals_mismatch" || pa.Warnings[0].Field != "total_goods_price" ||
		!strings.Contains(pa.Warnings[0].Message, "total_goods_price 999.00 differs from the sum of the lines") {
		t.Fatalf("answer warnings %+v", pa.Warnings)
	}
	if a := e.push("shop", body); a.status != http.StatusOK || decodeAnswer(t, a).Result != store.ResultDuplicate {
		t.Fatalf("repeat: %d %s", a.status, a.body)
	}

	rec, err := e.store.GetOrder(context.Background(), "shop", d.OrderNo)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Order.Goods.String() != "999.00" {
		t.Errorf("goods total stored as %s, want it as sent", rec.Order.Goods)
	}
	tl, err := e.store.Timeline(context.Background(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, s := range tl {
		if s.Stage == "warning" {
			warnings = append(warnings, string(s.Detail))
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `"code":"totals_mismatch"`) {
		t.Fatalf("timeline warnings %v, want one totals_mismatch", warnings)
	}
	want := map[string]float64{"code=totals_mismatch,source=shop": 1}
	if got := e.series("orderhub_push_warnings_total"); !equalSeries(got, want) {
		t.Errorf("orderhub_push_warnings_total = %s, want %s", fmtSeries(got), fmtSeries(want))
	}
	var logged int
	for _, l := range e.logs.Records(t)[before:] {
		if l["msg"] == "push accepted with a warning" && l["code"] == "totals_mismatch" && l["order_no"] == d.OrderNo {
			logged++
		}
	}
	if logged != 1 {
		t.Errorf("%d warning log lines, want 1", logged)
	}
}
