package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/mall"
	"orderhub/internal/testutil/pgtest"
)

// balancer is a load balancer as the README configures nginx: round robin
// over the nodes, and a push that met a closed port, a broken connection or
// a 503 is sent to the next node (proxy_next_upstream error timeout
// http_503 non_idempotent). That is safe for pushes, POSTs though they are:
// a repeated push is never stored twice.
type balancer struct {
	nodes   []string // base URLs
	next    atomic.Uint64
	retried atomic.Int64
	tr      *http.Transport
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	first := b.next.Add(1)
	var last error
	for i := 0; i < 2*len(b.nodes); i++ {
		if i > 0 {
			b.retried.Add(1)
			time.Sleep(time.Millisecond)
		}
		node := b.nodes[(first+uint64(i))%uint64(len(b.nodes))]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, node+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := b.tr.RoundTrip(req)
		if err != nil {
			last = err
			continue
		}
		b2, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode == http.StatusServiceUnavailable {
			last = fmt.Errorf("%s answered %d %s (%v)", node, resp.StatusCode, b2, err)
			continue
		}
		for k, v := range resp.Header {
			if k != "Connection" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(b2)
		return
	}
	http.Error(w, "no node answered: "+last.Error(), http.StatusBadGateway)
}

// TestServePostgresRollingRestart is the README's way to ship a new binary
// on PostgreSQL: two nodes on one database behind a balancer, restarted one
// at a time (SIGTERM, start again, wait for /healthz), twice each, while
// four senders push through the balancer. Not one push may be refused, and
// every acknowledged one must be stored.
func TestServePostgresRollingRestart(t *testing.T) {
	db := pgtest.URL(t)
	dir := t.TempDir()
	type node struct {
		cfg  string
		base string
		s    *server
	}
	nodes := make([]*node, 2)
	lb := &balancer{tr: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer lb.tr.CloseIdleConnections()
	for i := range nodes {
		port := freePort(t)
		n := &node{cfg: filepath.Join(dir, fmt.Sprintf("node%d.yaml", i)), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
		writeFile(t, n.cfg, fmt.Sprintf(`store: %q
listen: 127.0.0.1:%d
`+apiTokens+`
log: {level: warn, format: text}
systems:
  shop: {kind: mall, app_sign: %s}
sources:
  shop_orders: {system: shop, mode: push}
`, db, port, appSign))
		nodes[i] = n
		lb.nodes = append(lb.nodes, n.base)
	}
	boot := func(n *node) {
		n.s = &server{proc: start(t, dir, "serve", "--config", n.cfg), base: n.base}
		n.s.waitHealthy(n.base, 5*time.Millisecond, 20*time.Second)
	}
	for _, n := range nodes {
		boot(n)
	}
	front := httptest.NewServer(lb)
	defer front.Close()

	var mu sync.Mutex
	var ackedNos []string
	var answered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	c := &http.Client{Timeout: 20 * time.Second}
	defer c.CloseIdleConnections()
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			gen := mall.NewGenerator(uint64(time.Now().UnixNano())+uint64(i), appSign, shanghai, fmt.Sprintf("Q%d", i))
			for n := 0; n < 100000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				o := gen.New(time.Now())
				status, _, err := push(context.Background(), c, front.URL+"/v1/push/shop_orders", mall.Body(o))
				answered.Add(1)
				if err != nil || status != http.StatusCreated {
					t.Errorf("sender %d: push of %s through the balancer answered %d: %v", i, o.OrderNo, status, err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				ackedNos = append(ackedNos, o.OrderNo)
				mu.Unlock()
			}
		}(i)
	}
	waitAnswered := func(more int64) {
		want := answered.Load() + more
		deadline := time.Now().Add(30 * time.Second)
		for answered.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("only %d pushes answered, want %d", answered.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for round := 0; round < 2; round++ {
		for i, n := range nodes {
			waitAnswered(50)
			if code := n.s.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
				t.Fatalf("round %d: node %d exited %d after SIGTERM, want 0", round, i, code)
			}
			waitAnswered(20) // the other node alone
			boot(n)
		}
	}
	waitAnswered(50)
	close(stop)
	wg.Wait()

	// Every acknowledged order is stored; either node reads it.
	for k, no := range ackedNos {
		var oa orderAnswer
		if _, err := getJSON(c, nodes[k%2].base+"/v1/orders/shop_orders/"+no, &oa); err != nil {
			t.Errorf("acknowledged order %s: %v", no, err)
		} else if oa.Version != 1 {
			t.Errorf("order %s at version %d, want 1", no, oa.Version)
		}
	}
	for i, n := range nodes {
		if code := n.s.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
			t.Errorf("node %d exited %d after SIGTERM", i, code)
		}
	}
	t.Logf("%d pushes through 4 node restarts, %d acknowledged; the balancer sent %d attempts on to the other node",
		answered.Load(), len(ackedNos), lb.retried.Load())
}
