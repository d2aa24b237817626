package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/mall"
	"orderhub/internal/store"
)

// attempt is one push the test sent, acknowledged or not.
type attempt struct {
	round  int
	kind   string // probe, new, update, resend, lost (gave up), retry
	no     string
	body   []byte
	acked  bool // answered 2xx
	status int
	ans    pushAnswer
	err    error
}

// ledger collects every attempt of every round.
type ledger struct {
	mu       sync.Mutex
	attempts []*attempt
}

func (l *ledger) add(a *attempt) {
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
}

func (l *ledger) all() []*attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*attempt(nil), l.attempts...)
}

// redacted is what the mall receiver stores for a body: the app_sign value
// replaced wherever it occurs.
func redacted(body []byte) []byte {
	return bytes.ReplaceAll(body, []byte(appSign), []byte("[redacted]"))
}

// tracked is one order a pusher owns; only that pusher sends its documents,
// one at a time, so what the hub should answer is known.
type tracked struct {
	o           *mall.Order
	lastBody    []byte
	lastAcked   bool // the last body sent was answered 2xx
	lastVersion int64
}

// pusher is one of the concurrent senders. It lives across rounds: orders it
// created before a crash are moved on after the restart.
type pusher struct {
	id   int
	gen  *mall.Generator
	rng  *rand.Rand
	live []*tracked
}

// run pushes until stop is closed. stopping is closed just before the server
// is stopped; answers after it may be failures.
func (p *pusher) run(t *testing.T, round int, c *http.Client, url string, l *ledger, stop, stopping <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		now := time.Now()
		var tr *tracked
		kind := "new"
		if len(p.live) > 0 {
			switch r := p.rng.IntN(100); {
			case r < 40:
			case r < 80:
				i := p.rng.IntN(len(p.live))
				if p.gen.Advance(p.live[i].o, now) {
					tr, kind = p.live[i], "update"
				} else {
					p.live = append(p.live[:i], p.live[i+1:]...)
				}
			default:
				tr, kind = p.live[p.rng.IntN(len(p.live))], "resend"
			}
		}
		if tr == nil {
			tr = &tracked{o: p.gen.New(now)}
			if p.rng.IntN(4) == 0 {
				p.gen.Advance(tr.o, now) // first seen already paid (or cancelled)
			}
			p.live = append(p.live, tr)
			if len(p.live) > 16 {
				p.live = p.live[1:]
			}
		}
		var body []byte
		if kind == "resend" {
			body = tr.lastBody
		} else {
			body = mall.Body(tr.o)
		}
		a := &attempt{round: round, kind: kind, no: tr.o.OrderNo, body: body}
		status, ans, err := push(context.Background(), c, url, body)
		a.status, a.err = status, err
		if err == nil {
			a.acked, a.ans = true, *ans
			checkAnswer(t, p.id, tr, a)
			tr.lastAcked, tr.lastVersion = true, ans.Version
		} else {
			tr.lastAcked = false
			select {
			case <-stopping:
				time.Sleep(5 * time.Millisecond) // the server is going away: don't spin
			default:
				t.Errorf("pusher %d: %s push of %s before the server was stopped: %v", p.id, kind, a.no, err)
			}
			if status != 0 && status != http.StatusServiceUnavailable {
				t.Errorf("pusher %d: %s push of %s answered %d: %v", p.id, kind, a.no, status, err)
			}
		}
		tr.lastBody = body
		l.add(a)
	}
}

// checkAnswer compares a 2xx answer with what the pusher knows of the order.
func checkAnswer(t *testing.T, id int, tr *tracked, a *attempt) {
	ans := a.ans
	bad := func(want string) {
		t.Errorf("pusher %d: %s push of %s answered %d %+v; want %s (previous: acked %v, version %d)",
			id, a.kind, a.no, a.status, ans, want, tr.lastAcked, tr.lastVersion)
	}
	if ans.Source != "shop_orders" || ans.OrderNo != a.no {
		bad("the same source and order_no")
	}
	if (a.status == http.StatusCreated) != (ans.Result == "created") {
		bad("201 exactly when created")
	}
	first := tr.lastBody == nil
	switch {
	case a.kind == "new" && first:
		if ans.Result != "created" || ans.Version != 1 {
			bad("created, version 1")
		}
	case a.kind == "resend" && tr.lastAcked:
		if ans.Result != "duplicate" || ans.Version != tr.lastVersion {
			bad(fmt.Sprintf("duplicate, version %d", tr.lastVersion))
		}
	case a.kind == "update" && tr.lastAcked:
		if ans.Result != "updated" || ans.Version != tr.lastVersion+1 {
			bad(fmt.Sprintf("updated, version %d", tr.lastVersion+1))
		}
	default:
		// The previous document's fate is unknown (its push failed in a
		// crash): it may or may not have been committed.
		switch ans.Result {
		case "created":
			if ans.Version != 1 {
				bad("version 1 when created")
			}
		case "updated":
			if ans.Version < 2 {
				bad("version ≥ 2 when updated")
			}
		case "duplicate":
			if a.kind != "resend" {
				bad("no duplicate for a changed document")
			}
		default:
			bad("created, updated or duplicate")
		}
	}
}

// TestCrashKill9 is the durability test: serve is killed with SIGKILL while
// 32 senders push new orders, updates and exact re-sends, restarted on the
// same data, and killed again. Every push answered 2xx must be stored with
// the exact (redacted) payload at the version the answer named, nothing may
// be stored twice, versions have no gaps, and the last run stops cleanly on
// SIGTERM. ORDERHUB_CRASH_ROUNDS sets the number of kills (default 3),
// ORDERHUB_CRASH_SEED the random seed.
func TestCrashKill9(t *testing.T) {
	rounds := 3
	if v := os.Getenv("ORDERHUB_CRASH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ORDERHUB_CRASH_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ORDERHUB_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ORDERHUB_CRASH_SEED=%q: want a number", v)
		}
		seed = n
	}
	t.Logf("ORDERHUB_CRASH_SEED=%d ORDERHUB_CRASH_ROUNDS=%d", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 1))

	dir := t.TempDir()
	l := &ledger{}
	const senders = 32
	pushers := make([]*pusher, senders)
	for i := range pushers {
		pushers[i] = &pusher{id: i, gen: mall.NewGenerator(seed+uint64(i)+1, appSign, shanghai, fmt.Sprintf("K%02d", i)),
			rng: rand.New(rand.NewPCG(seed, uint64(i)+2))}
	}
	probe := mall.NewGenerator(seed, appSign, shanghai, "H")
	var retried []string // orders pushed by a sender that gave up, then retried

	// Rounds 0..rounds-1 end in kill -9; the last one ends in SIGTERM.
	for round := 0; round <= rounds; round++ {
		final := round == rounds
		s := startServe(t, dir)
		api := &http.Client{Timeout: 10 * time.Second}
		took := s.waitHealthy(s.base, 5*time.Millisecond, 10*time.Second)
		url := s.base + "/v1/push/shop_orders"

		// Green means accepting: push at once.
		o := probe.New(time.Now())
		a := &attempt{round: round, kind: "probe", no: o.OrderNo, body: mall.Body(o)}
		status, ans, err := push(context.Background(), api, url, a.body)
		if err != nil || status != http.StatusCreated || ans.Result != "created" || ans.Version != 1 {
			t.Fatalf("round %d: the first push after /healthz turned green (%s) answered %d %+v %v; want 201 created v1", round, took, status, ans, err)
		}
		a.acked, a.status, a.ans = true, status, *ans
		l.add(a)

		// What earlier rounds acknowledged survived the kill.
		verifyAPI(t, api, s.base, l, round)

		if round == 0 {
			retried = giveUpAndRetry(t, api, url, probe, l, round, rng)
		}

		// 32 senders, then kill -9 (or SIGTERM in the final round) mid-flight.
		tr := &http.Transport{MaxIdleConns: 2 * senders, MaxIdleConnsPerHost: 2 * senders}
		c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
		stop, stopping := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		for _, p := range pushers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.run(t, round, c, url, l, stop, stopping)
			}()
		}
		wait := time.Duration(300+rng.IntN(1201)) * time.Millisecond
		time.Sleep(wait)
		close(stopping)
		var code int
		if final {
			code = s.stop(syscall.SIGTERM, 15*time.Second)
		} else {
			code = s.stop(syscall.SIGKILL, 10*time.Second)
		}
		close(stop)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: the senders did not stop within 20s of the server's end", round)
		}
		tr.CloseIdleConnections()
		api.CloseIdleConnections()

		acked, failed := 0, 0
		for _, a := range l.all() {
			if a.round == round && a.kind != "probe" && a.kind != "lost" && a.kind != "retry" {
				if a.acked {
					acked++
				} else {
					failed++
				}
			}
		}
		how := "kill -9"
		if final {
			how = "SIGTERM"
		}
		t.Logf("round %d: green after %s; %s after %s with %d pushes acknowledged, %d in flight or refused",
			round, took.Round(time.Millisecond), how, wait, acked, failed)
		if final && code != 0 {
			t.Fatalf("round %d: serve exited %d after SIGTERM, want 0", round, code)
		}
		if !final && code != -1 {
			t.Fatalf("round %d: serve exited %d after SIGKILL, want death by signal", round, code)
		}
		if acked < 10 {
			t.Fatalf("round %d: only %d pushes acknowledged in %s; the test proves nothing", round, acked, wait)
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	verifyStore(t, filepath.Join(dir, "orderhub.db"), l, retried)
}

// giveUpAndRetry pushes orders with a client that gives up (a 1ns timeout,
// or a context cancelled as soon as the request is written, or a moment
// later), then retries the identical body normally: the retry is 201 created
// or 200 duplicate, and the order has exactly one version.
func giveUpAndRetry(t *testing.T, c *http.Client, url string, gen *mall.Generator, l *ledger, round int, rng *rand.Rand) []string {
	t.Helper()
	var nos []string
	gaveUp, dup := 0, 0
	for k := 0; k < 15; k++ {
		o := gen.New(time.Now())
		if k%2 == 1 {
			gen.Advance(o, time.Now())
		}
		body := mall.Body(o)
		var status int
		var ans *pushAnswer
		var err error
		switch k % 3 {
		case 0:
			impatient := &http.Client{Timeout: time.Nanosecond}
			status, ans, err = push(context.Background(), impatient, url, body)
		default:
			ctx, cancel := context.WithCancel(context.Background())
			delay := time.Duration(0)
			if k%3 == 2 {
				delay = time.Duration(rng.IntN(3000)) * time.Microsecond
			}
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
				if delay == 0 {
					cancel()
				} else {
					time.AfterFunc(delay, cancel)
				}
			}}
			fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			status, ans, err = push(httptrace.WithClientTrace(ctx, trace), fresh, url, body)
			cancel()
		}
		a := &attempt{round: round, kind: "lost", no: o.OrderNo, body: body, status: status, err: err}
		if err == nil {
			a.acked, a.ans = true, *ans // answered before the sender gave up
		} else {
			gaveUp++
		}
		l.add(a)

		status, ans, err = push(context.Background(), c, url, body)
		if err != nil {
			t.Fatalf("retry of %s after giving up: %v", o.OrderNo, err)
		}
		ok := (status == http.StatusCreated && ans.Result == "created") || (status == http.StatusOK && ans.Result == "duplicate")
		if !ok || ans.Version != 1 {
			t.Errorf("retry of %s after giving up answered %d %+v; want 201 created or 200 duplicate, version 1", o.OrderNo, status, ans)
		}
		if ans.Result == "duplicate" {
			dup++ // the push the sender gave up on was committed all the same
		}
		l.add(&attempt{round: round, kind: "retry", no: o.OrderNo, body: body, acked: true, status: status, ans: *ans})
		var oa orderAnswer
		if _, err := getJSON(c, url[:len(url)-len("/v1/push/shop_orders")]+"/v1/orders/shop_orders/"+o.OrderNo, &oa); err != nil {
			t.Fatal(err)
		}
		created := 0
		for _, e := range oa.Events {
			if e.Type == "created" {
				created++
			}
		}
		if oa.Version != 1 || created != 1 {
			t.Errorf("order %s after a give-up and a retry: version %d, %d created events; want 1 and 1", o.OrderNo, oa.Version, created)
		}
		nos = append(nos, o.OrderNo)
	}
	if gaveUp == 0 {
		t.Errorf("no sender gave up: the give-up-and-retry check proved nothing")
	}
	t.Logf("give up and retry: %d of %d senders gave up; %d retries found the abandoned push committed (duplicate)", gaveUp, len(nos), dup)
	return nos
}

// verifyAPI checks through GET /v1/orders that every order acknowledged in an
// earlier round is stored at least at the acknowledged version, that nothing
// is stored that was never sent, and looks at a sample of orders one by one.
func verifyAPI(t *testing.T, c *http.Client, base string, l *ledger, round int) {
	t.Helper()
	stored := listAll(t, c, base)
	want := map[string]int64{}
	sent := map[string]bool{}
	for _, a := range l.all() {
		sent[a.no] = true
		if a.acked && a.ans.Version > want[a.no] {
			want[a.no] = a.ans.Version
		}
	}
	missing := 0
	for no, v := range want {
		if stored[no] < v {
			missing++
			if missing <= 10 {
				t.Errorf("round %d: acknowledged order %s at version %d; the API has version %d", round, no, v, stored[no])
			}
		}
	}
	for no := range stored {
		if !sent[no] {
			t.Errorf("round %d: the API lists order %s, which was never sent", round, no)
		}
	}
	if missing > 10 {
		t.Errorf("round %d: %d acknowledged orders missing or behind in all", round, missing)
	}
	// A few orders in full.
	nos := make([]string, 0, len(want))
	for no := range want {
		nos = append(nos, no)
	}
	sort.Strings(nos)
	for i := 0; i < len(nos) && i < 300; i += 1 + len(nos)/20 {
		var oa orderAnswer
		if _, err := getJSON(c, base+"/v1/orders/shop_orders/"+nos[i], &oa); err != nil {
			t.Errorf("round %d: %v", round, err)
			continue
		}
		if oa.Version != stored[nos[i]] || len(oa.Events) == 0 || oa.Events[0].Type != "created" || oa.Events[0].Version != 1 {
			t.Errorf("round %d: order %s reads version %d (listed %d), events %+v; want the listed version and created at version 1 first",
				round, nos[i], oa.Version, stored[nos[i]], oa.Events)
		}
	}
	t.Logf("round %d: the API lists %d orders; %d acknowledged so far, %d of them missing or behind", round, len(stored), len(want), missing)
}

// verifyStore opens the store after the last clean shutdown and checks every
// acknowledged push against the stored versions.
func verifyStore(t *testing.T, path string, l *ledger, retried []string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+path, store.Options{})
	if err != nil {
		t.Fatalf("opening the store after the last run: %v", err)
	}
	defer st.Close()

	// Every body ever sent, by its stored form.
	sentRaw := map[[32]byte]string{}
	sentNo := map[string]bool{}
	attempts := l.all()
	for _, a := range attempts {
		sentRaw[sha256.Sum256(redacted(a.body))] = a.no
		sentNo[a.no] = true
	}

	type stored struct {
		rec      store.Record
		versions []store.Version
	}
	orders := map[string]*stored{}
	cursor := ""
	for {
		page, err := st.ListOrders(ctx, store.ListFilter{Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		recs := page.Records
		for _, r := range recs {
			if r.Order.Source != "shop_orders" {
				t.Errorf("order %s has source %q", r.Order.OrderNo, r.Order.Source)
			}
			if _, dup := orders[r.Order.OrderNo]; dup {
				t.Errorf("order %s is stored twice", r.Order.OrderNo)
				continue
			}
			if !sentNo[r.Order.OrderNo] {
				t.Errorf("order %s is stored but was never sent", r.Order.OrderNo)
			}
			vs, err := st.Versions(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			orders[r.Order.OrderNo] = &stored{rec: r, versions: vs}
			if int64(len(vs)) != r.Version {
				t.Errorf("order %s is at version %d with %d stored versions", r.Order.OrderNo, r.Version, len(vs))
			}
			for i, v := range vs {
				if v.Version != int64(i+1) {
					t.Errorf("order %s: versions %v are not 1..n", r.Order.OrderNo, versionNumbers(vs))
					break
				}
				if i > 0 && bytes.Equal(v.Raw, vs[i-1].Raw) {
					t.Errorf("order %s: versions %d and %d hold the same payload", r.Order.OrderNo, i, i+1)
				}
				if no, ok := sentRaw[sha256.Sum256(v.Raw)]; !ok || no != r.Order.OrderNo {
					t.Errorf("order %s version %d holds a payload that was never sent for it (%d bytes)", r.Order.OrderNo, v.Version, len(v.Raw))
				}
				if bytes.Contains(v.Raw, []byte(appSign)) {
					t.Errorf("order %s version %d stores the app_sign", r.Order.OrderNo, v.Version)
				}
			}
			evs, err := st.Events(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			created := 0
			seen := map[string]bool{}
			for _, e := range evs {
				if e.Type == "created" {
					created++
					if e.Version != 1 {
						t.Errorf("order %s: created event at version %d", r.Order.OrderNo, e.Version)
					}
				}
				key := fmt.Sprintf("%s@%d", e.Type, e.Version)
				if seen[key] {
					t.Errorf("order %s: event %s recorded twice", r.Order.OrderNo, key)
				}
				seen[key] = true
				if e.Version < 1 || e.Version > r.Version {
					t.Errorf("order %s: event %s at version %d of %d", r.Order.OrderNo, e.Type, e.Version, r.Version)
				}
			}
			if created != 1 {
				t.Errorf("order %s has %d created events, want 1", r.Order.OrderNo, created)
			}
		}
		if !page.More {
			break
		}
		cursor = page.Cursor
	}

	counts, err := st.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Orders != int64(len(orders)) {
		t.Errorf("the store counts %d orders; listing them gave %d", counts.Orders, len(orders))
	}

	// Every acknowledged body is stored at the version its answer named.
	ackedNo := map[string]bool{}
	checked, lost := 0, 0
	for _, a := range attempts {
		if !a.acked {
			continue
		}
		ackedNo[a.no] = true
		s := orders[a.no]
		if s == nil {
			lost++
			if lost <= 10 {
				t.Errorf("order %s: acknowledged (round %d, %s, %d %s v%d) but not stored", a.no, a.round, a.kind, a.status, a.ans.Result, a.ans.Version)
			}
			continue
		}
		if a.ans.Result == "stale" {
			t.Errorf("order %s: a %s push answered stale; this test's documents never go back in time", a.no, a.kind)
			continue
		}
		v := a.ans.Version
		if v < 1 || v > int64(len(s.versions)) {
			t.Errorf("order %s: acknowledged at version %d (round %d, %s), but %d versions are stored", a.no, v, a.round, a.kind, len(s.versions))
			continue
		}
		if !bytes.Equal(s.versions[v-1].Raw, redacted(a.body)) {
			lost++
			if lost <= 10 {
				t.Errorf("order %s: version %d does not hold the body acknowledged for it (round %d, %s, %s)", a.no, v, a.round, a.kind, a.ans.Result)
			}
		}
		checked++
	}
	if lost > 10 {
		t.Errorf("%d acknowledged pushes lost or altered in all", lost)
	}
	unacked := 0
	for no := range orders {
		if !ackedNo[no] {
			unacked++
		}
	}
	if len(orders) != len(ackedNo)+unacked || len(ackedNo) > len(orders) {
		t.Errorf("%d orders stored, %d distinct order numbers acknowledged, %d stored without an acknowledgement", len(orders), len(ackedNo), unacked)
	}
	for _, no := range retried {
		if s := orders[no]; s == nil || len(s.versions) != 1 {
			n := 0
			if s != nil {
				n = len(s.versions)
			}
			t.Errorf("order %s (sender gave up, then retried) has %d versions, want 1", no, n)
		}
	}
	t.Logf("store: %d orders, %d versions, %d events; %d acknowledged pushes checked byte for byte; %d orders committed without an answer",
		counts.Orders, counts.Versions, counts.Events, checked, unacked)
}

func versionNumbers(vs []store.Version) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	return out
}
