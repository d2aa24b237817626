package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/mall"
	"orderhub/internal/store"
)

// startActivated starts serve the way systemd socket activation does: the
// listening socket is descriptor 3 and LISTEN_PID/LISTEN_FDS name it. A
// shell sets LISTEN_PID to its own pid and execs orderhub, which keeps it.
func startActivated(t *testing.T, dir, cfg string, sock *os.File) *proc {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, bin, "serve", "--config", cfg)
	cmd.Dir = dir
	cmd.ExtraFiles = []*os.File{sock}
	return startCmd(t, "serve (socket-activated)", cmd)
}

// TestRestartOnHeldSocketRefusesNothing restarts serve on SQLite three
// times under four senders, with the listening socket held open by the
// parent as systemd's socket units do. Pushes made while no process runs
// wait in the socket's queue: not one is refused, every acknowledged one
// is stored. The test logs the longest a push waited, which is the gap a
// restart costs on SQLite.
func TestRestartOnHeldSocketRefusesNothing(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := serveConfig(t, dir, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	p := startActivated(t, dir, cfg, sock)
	p.waitHealthy(base, 5*time.Millisecond, 10*time.Second)

	type result struct {
		no    string
		body  []byte
		took  time.Duration
		err   error
		start time.Time
	}
	var mu sync.Mutex
	var results []result
	stop := make(chan struct{})
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	c := &http.Client{Timeout: 20 * time.Second, Transport: tr}
	defer tr.CloseIdleConnections()
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			gen := mall.NewGenerator(uint64(time.Now().UnixNano())+uint64(i), appSign, shanghai, fmt.Sprintf("S%d", i))
			for n := 0; n < 100000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				o := gen.New(time.Now())
				r := result{no: o.OrderNo, body: mall.Body(o), start: time.Now()}
				var info httptrace.GotConnInfo
				ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { info = i }})
				_, _, r.err = push(ctx, c, base+"/v1/push/shop_orders", r.body)
				if r.err != nil {
					r.err = fmt.Errorf("%w (connection reused %v, idle for %v)", r.err, info.Reused, info.IdleTime)
				}
				r.took = time.Since(r.start)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if r.err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}(i)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(results) }
	waitFor := func(n int) {
		deadline := time.Now().Add(20 * time.Second)
		for count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d pushes answered, want %d", count(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	var gaps []time.Duration
	for round := 0; round < 3; round++ {
		waitFor(count() + 100)
		sent := time.Now()
		t.Logf("round %d: SIGTERM at %s", round, sent.Format("15:04:05.000"))
		if code := p.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
			t.Fatalf("round %d: serve exited %d after SIGTERM, want 0", round, code)
		}
		p = startActivated(t, dir, cfg, sock)
		p.waitHealthy(base, time.Millisecond, 10*time.Second)
		gaps = append(gaps, time.Since(sent))
	}
	waitFor(count() + 100)
	close(stop)
	wg.Wait()
	if code := p.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}

	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "orderhub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var waits []time.Duration
	failed := 0
	for _, r := range results {
		waits = append(waits, r.took)
		if r.err != nil {
			failed++
			if failed <= 10 {
				t.Errorf("push of %s at %s refused: %v", r.no, r.start.Format("15:04:05.000"), r.err)
			}
			continue
		}
		rec, err := st.GetOrder(context.Background(), "shop_orders", r.no)
		if err != nil || rec == nil {
			t.Errorf("order %s was acknowledged but is not stored: %v", r.no, err)
		}
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	t.Logf("%d pushes through 3 restarts, %d refused; SIGTERM to the next node green: %v; longest push %v, p99 %v",
		len(results), failed, gaps, waits[len(waits)-1].Round(time.Millisecond), waits[len(waits)*99/100].Round(time.Millisecond))
}
