package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/mall"
	"orderhub/internal/testutil/pgtest"
)

// TestServePostgresTwoNodes runs two serve processes on one PostgreSQL
// database, the way several nodes share the work: pushes spread over both
// (the same orders sent to either) are each stored once with gapless
// versions, and either node reads what the other took in.
func TestServePostgresTwoNodes(t *testing.T) {
	db := pgtest.URL(t)
	dir := t.TempDir()
	var nodes []*server
	for i := 0; i < 2; i++ {
		port := freePort(t)
		cfg := filepath.Join(dir, fmt.Sprintf("node%d.yaml", i))
		writeFile(t, cfg, fmt.Sprintf(`store: %q
listen: 127.0.0.1:%d
`+apiTokens+`
log: {level: warn, format: text}
systems:
  shop: {kind: mall, app_sign: %s}
sources:
  shop_orders: {system: shop, mode: push}
`, db, port, appSign))
		s := &server{proc: start(t, dir, "serve", "--config", cfg), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
		s.waitHealthy(s.base, 10*time.Millisecond, 20*time.Second)
		nodes = append(nodes, s)
	}

	gen := mall.NewGenerator(uint64(time.Now().UnixNano()), appSign, shanghai, "P")
	const orders = 40
	docs := make([]*mall.Order, orders)
	for i := range docs {
		docs[i] = gen.New(time.Now())
	}
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	// Each order: its first version to both nodes at once, then two steps
	// and a re-send of the last alternately to each, concurrently across
	// orders.
	var wg sync.WaitGroup
	errs := make(chan error, 3*orders)
	for i, o := range docs {
		wg.Add(1)
		go func(i int, o *mall.Order) {
			defer wg.Done()
			var bodies [][]byte
			bodies = append(bodies, mall.Body(o))
			for step := 0; step < 2; step++ {
				if gen.Advance(o, time.Now()) {
					bodies = append(bodies, mall.Body(o))
				}
			}
			bodies = append(bodies, bodies[len(bodies)-1]) // a retry
			// The first version reaches both nodes at once, as a sender's
			// retry to another node would: it must be stored once.
			var both sync.WaitGroup
			for _, node := range nodes {
				both.Add(1)
				go func(node *server) {
					defer both.Done()
					if _, _, err := push(context.Background(), c, node.base+"/v1/push/shop_orders", bodies[0]); err != nil {
						errs <- fmt.Errorf("order %s first push to %s: %w", o.OrderNo, node.base, err)
					}
				}(node)
			}
			both.Wait()
			for j, b := range bodies[1:] {
				node := nodes[(i+j)%2]
				if _, _, err := push(context.Background(), c, node.base+"/v1/push/shop_orders", b); err != nil {
					errs <- fmt.Errorf("order %s push %d to %s: %w", o.OrderNo, j, node.base, err)
					return
				}
			}
		}(i, o)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Both nodes list every order, at the same version.
	first, second := listAll(t, c, nodes[0].base), listAll(t, c, nodes[1].base)
	if len(first) != orders || len(second) != orders {
		t.Fatalf("node 0 lists %d orders, node 1 %d; want %d on both", len(first), len(second), orders)
	}
	for no, v := range first {
		if second[no] != v {
			t.Errorf("order %s: version %d on node 0, %d on node 1", no, v, second[no])
		}
		var ans orderAnswer
		if _, err := getJSON(c, nodes[1].base+"/v1/orders/shop_orders/"+no, &ans); err != nil {
			t.Fatal(err)
		}
		created := 0
		for _, e := range ans.Events {
			if e.Type == "created" {
				created++
			}
			if e.Version < 1 || e.Version > ans.Version {
				t.Errorf("order %s: event %s at version %d, order at %d", no, e.Type, e.Version, ans.Version)
			}
		}
		if created != 1 {
			t.Errorf("order %s has %d created events, want exactly 1", no, created)
		}
	}
	for _, s := range nodes {
		if code := s.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
			t.Errorf("serve exited %d after SIGTERM", code)
		}
	}
}
