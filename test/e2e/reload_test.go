package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/mall"
	"orderhub/internal/connector/webhook"
	"orderhub/internal/store"
)

// Secrets of the reload tests; each is long and odd enough to be found
// nowhere else.
const (
	partnerOld = "partner-old-5ecret-q8w7e6r5"
	partnerNew = "partner-new-5ecret-z1x2c3v4"
	legacyOld  = "legacy-old-5ecret-m9n8b7v6"
	legacyNew  = "legacy-new-5ecret-a1s2d3f4"
	shop2Sign  = "shop2-5ign-p0o9i8u7y6"
)

// reloadConfig is the serve config of the reload tests. Before the reload:
// a mall shop, a webhook partner and a webhook legacy sender. After it
// (rotated): the partner's secret is rotated with the old one kept as
// previous_secret, the legacy sender's secret is replaced outright, and a
// second mall shop is added.
func reloadConfig(dir string, port int, format string, rotated bool) string {
	partner := fmt.Sprintf("{kind: webhook, secret: %s}", partnerOld)
	legacy := fmt.Sprintf("{kind: webhook, secret: %s}", legacyOld)
	extra := ""
	if rotated {
		partner = fmt.Sprintf("{kind: webhook, secret: %s, previous_secret: %s}", partnerNew, partnerOld)
		legacy = fmt.Sprintf("{kind: webhook, secret: %s}", legacyNew)
		extra = fmt.Sprintf("  shop2: {kind: mall, app_key: e2e-mall-2, app_sign: %s}\n", shop2Sign)
	}
	text := fmt.Sprintf(`store: sqlite://%s
listen: 127.0.0.1:%d
`+apiTokens+`
log: {level: info, format: %s}
systems:
  shop: {kind: mall, app_key: e2e-mall, app_sign: %s}
  partner: %s
  legacy: %s
%ssources:
  shop_orders: {system: shop, mode: push}
  partner_orders: {system: partner, mode: push}
  legacy_orders: {system: legacy, mode: push}
`, filepath.Join(dir, "orderhub.db"), port, format, appSign, partner, legacy, extra)
	if rotated {
		text += "  shop2_orders: {system: shop2, mode: push}\n"
	}
	return text
}

// hookBody is a canonical order for the webhook sources.
func hookBody(no string) []byte {
	return []byte(fmt.Sprintf(`{"order_no":%q,"status":"paid","total":"25.00","goods_amount":"25.00","created_at":%q}`,
		no, time.Now().In(shanghai).Format(time.RFC3339)))
}

// pushHook POSTs body signed with secret, as a webhook sender does.
func pushHook(ctx context.Context, c *http.Client, url, secret string, body []byte) (int, *pushAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	ts, sig := webhook.Sign(secret, time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderTimestamp, ts)
	req.Header.Set(webhook.HeaderSignature, sig)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, nil, fmt.Errorf("answer %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var a pushAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("decoding the answer %q: %w", b, err)
	}
	return resp.StatusCode, &a, nil
}

// acked is one push answered 2xx, and what the store must hold for it.
type acked struct {
	source, no string
	raw        []byte // the stored payload: the body, app_sign redacted
}

// TestReloadUnderLoad sends SIGHUP to serve while four senders push
// continuously to a mall source and to a webhook source whose secret the
// reload rotates. The reload adds a source and replaces another source's
// secret. Not one push may be refused or lost: every push is answered 2xx
// and every answered one is in the store once serve has stopped. The added
// source answers at once after the reload, and the replaced secret is
// refused.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "orderhub.yaml")
	writeFile(t, cfg, reloadConfig(dir, port, "text", false))
	s := &server{proc: start(t, dir, "serve", "--config", cfg), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	s.waitHealthy(s.base, 5*time.Millisecond, 10*time.Second)

	var (
		mu       sync.Mutex
		ledger   []acked
		reloaded atomic.Bool // the reload is logged as applied
		before   atomic.Int64
		after    atomic.Int64
	)
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	defer tr.CloseIdleConnections()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			gen := mall.NewGenerator(uint64(time.Now().UnixNano())+uint64(i), appSign, shanghai, fmt.Sprintf("R%d", i))
			for n := 0; n < 100000; n++ { // bounded; stop ends it long before
				select {
				case <-stop:
					return
				default:
				}
				was := reloaded.Load()
				var a acked
				var status int
				var err error
				if n%2 == 0 {
					o := gen.New(time.Now())
					body := mall.Body(o)
					a = acked{source: "shop_orders", no: o.OrderNo, raw: redacted(body)}
					status, _, err = push(context.Background(), c, s.base+"/v1/push/shop_orders", body)
				} else {
					// The old partner secret throughout: after the reload it
					// is the previous_secret and must still be accepted.
					// Every fourth push after the reload uses the new one.
					secret := partnerOld
					if was && n%4 == 1 {
						secret = partnerNew
					}
					a.no = fmt.Sprintf("W%d-%06d", i, n)
					body := hookBody(a.no)
					a.source, a.raw = "partner_orders", body
					status, _, err = pushHook(context.Background(), c, s.base+"/v1/push/partner_orders", secret, body)
				}
				if err != nil {
					t.Errorf("sender %d: push %d to %s (reloaded: %v) refused: %d %v", i, n, a.source, was, status, err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				ledger = append(ledger, a)
				mu.Unlock()
				if was {
					after.Add(1)
				} else {
					before.Add(1)
				}
			}
		}(i)
	}

	// Let the senders run, then reload under their load.
	waitCount(t, &before, 100, 10*time.Second)
	writeFile(t, cfg, reloadConfig(dir, port, "text", true))
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s.proc, "configuration reloaded", 10*time.Second)
	reloaded.Store(true)

	// Right after: the added source answers, the replaced secret is refused,
	// its replacement accepted.
	gen2 := mall.NewGenerator(uint64(time.Now().UnixNano()), shop2Sign, shanghai, "N")
	body := mall.Body(gen2.New(time.Now()))
	if status, ans, err := push(context.Background(), c, s.base+"/v1/push/shop2_orders", body); err != nil || status != http.StatusCreated {
		t.Errorf("the source added by the reload answered %d %+v %v, want 201", status, ans, err)
	}
	if status, _, err := pushHook(context.Background(), c, s.base+"/v1/push/legacy_orders", legacyOld, hookBody("L-old")); status != http.StatusUnauthorized {
		t.Errorf("a push signed with the replaced secret answered %d (%v), want 401", status, err)
	} else if !strings.Contains(err.Error(), "bad_signature") {
		t.Errorf("a push signed with the replaced secret: %v, want bad_signature", err)
	}
	legacy := hookBody("L-new")
	if status, _, err := pushHook(context.Background(), c, s.base+"/v1/push/legacy_orders", legacyNew, legacy); err != nil || status != http.StatusCreated {
		t.Errorf("a push signed with the new secret answered %d %v, want 201", status, err)
	} else {
		mu.Lock()
		ledger = append(ledger, acked{source: "legacy_orders", no: "L-new", raw: legacy})
		mu.Unlock()
	}

	waitCount(t, &after, 100, 10*time.Second)
	close(stop)
	wg.Wait()
	if code := s.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
	logs := s.stderr.String()
	for _, want := range []string{"msg=draining", "msg=stopped in="} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log has no %q", want)
		}
	}
	for _, secret := range []string{appSign, partnerOld, partnerNew, legacyOld, legacyNew, shop2Sign} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a secret (%s…)", secret[:6])
		}
	}

	// Every acknowledged push is in the store, byte for byte.
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "orderhub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lost := 0
	for _, a := range ledger {
		rec, err := st.GetOrder(context.Background(), a.source, a.no)
		if err != nil || rec == nil {
			lost++
			if lost <= 10 {
				t.Errorf("order %s/%s was acknowledged but is not stored: %v", a.source, a.no, err)
			}
			continue
		}
		vs, err := st.Versions(context.Background(), rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || !bytes.Equal(vs[0].Raw, a.raw) {
			lost++
			if lost <= 10 {
				t.Errorf("order %s/%s: %d versions, the first not the acknowledged body", a.source, a.no, len(vs))
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged pushes lost or altered", lost, len(ledger))
	}
	t.Logf("%d pushes acknowledged before the reload and %d after, none refused; all %d in the store", before.Load(), after.Load(), len(ledger))
}

// TestReloadRefusesBadConfig sends SIGHUP after breaking the config file:
// the reload is refused with the very problems `orderhub check` prints for
// the file, and the running configuration keeps serving. A later good
// reload that also changes the listen address is applied, except for the
// address, which the log says needs a restart.
func TestReloadRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "orderhub.yaml")
	good := reloadConfig(dir, port, "json", false)
	writeFile(t, cfg, good)
	s := &server{proc: start(t, dir, "serve", "--config", cfg), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	s.waitHealthy(s.base, 5*time.Millisecond, 10*time.Second)
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	gen := mall.NewGenerator(uint64(time.Now().UnixNano()), appSign, shanghai, "B")

	// Broken three ways: a source naming a system that does not exist, a
	// secret too short, and a key misspelt.
	bad := strings.NewReplacer("{system: partner,", "{system: partnr,", "secret: "+legacyOld, "secret: short",
		"log:", "logs:").Replace(good)
	writeFile(t, cfg, bad)
	code, _, checkOut := runCLI(t, dir, "check", "--config", cfg)
	if code != 1 {
		t.Fatalf("check on the broken file exited %d, want 1:\n%s", code, checkOut)
	}
	var want []string
	for _, line := range readLines(checkOut) {
		if line != "" && !strings.HasSuffix(line, "problem(s) in the configuration") {
			want = append(want, line)
		}
	}
	if len(want) < 3 {
		t.Fatalf("check found %d problems, want 3:\n%s", len(want), checkOut)
	}

	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s.proc, "configuration not reloaded", 10*time.Second)
	var got []string
	for _, line := range readLines(s.stderr.String()) {
		var rec struct {
			Msg     string `json:"msg"`
			Problem string `json:"problem"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "config problem" {
			got = append(got, rec.Problem)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the refused reload logged the problems\n%s\nwant what check prints:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The old configuration serves on, old secrets and all.
	if status, ans, err := push(context.Background(), c, s.base+"/v1/push/shop_orders", mall.Body(gen.New(time.Now()))); err != nil || status != http.StatusCreated {
		t.Errorf("after the refused reload a push answered %d %+v %v, want 201", status, ans, err)
	}
	if status, _, err := pushHook(context.Background(), c, s.base+"/v1/push/legacy_orders", legacyOld, hookBody("B-legacy")); err != nil || status != http.StatusCreated {
		t.Errorf("after the refused reload the old legacy secret answered %d %v, want 201", status, err)
	}
	s.waitHealthy(s.base, 5*time.Millisecond, time.Second)

	// A good reload that also moves the listen address: the rest applies.
	other := freePort(t)
	writeFile(t, cfg, strings.Replace(reloadConfig(dir, port, "json", true), fmt.Sprintf("listen: 127.0.0.1:%d", port), fmt.Sprintf("listen: 127.0.0.1:%d", other), 1))
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s.proc, `"msg":"configuration reloaded"`, 10*time.Second)
	logs := s.stderr.String()
	if !strings.Contains(logs, `"msg":"setting needs a restart to change; the running value stays","key":"listen","running":"127.0.0.1:`+fmt.Sprint(port)) {
		t.Errorf("the log does not say that listen needs a restart:\n%s", tail(logs, 2000))
	}
	if status, _, err := push(context.Background(), c, s.base+"/v1/push/shop2_orders", mall.Body(mall.NewGenerator(1, shop2Sign, shanghai, "B2").New(time.Now()))); err != nil || status != http.StatusCreated {
		t.Errorf("after the good reload the added source on the running address answered %d %v, want 201", status, err)
	}
	if code := s.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
}

// waitCount waits until n reaches at least want.
func waitCount(t *testing.T, n *atomic.Int64, want int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d pushes acknowledged within %s, want %d", n.Load(), within, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLog waits until the process's log (stderr) holds marker.
func waitLog(t *testing.T, p *proc, marker string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		s, ch := p.stderr.changed()
		if strings.Contains(s, marker) {
			return
		}
		select {
		case <-ch:
		case <-p.done:
			t.Fatalf("orderhub %s exited (%v) before logging %q:\n%s", p.name, p.err, marker, tail(p.stderr.String(), 4000))
		case <-deadline:
			t.Fatalf("orderhub %s logged no %q within %s:\n%s", p.name, marker, within, tail(p.stderr.String(), 4000))
		}
	}
}
