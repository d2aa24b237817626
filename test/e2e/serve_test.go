package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/mall"
)

// appSign is the mall credential the serve tests configure. It is long and
// odd enough not to occur anywhere else in a generated document.
const appSign = "e2e7c0ffee5ign0f7he5h0pxq9z"

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// serveConfig writes the config serve runs with: SQLite in dir, listening on
// port, one mall shop pushing to shop_orders. It returns the file's path.
func serveConfig(t *testing.T, dir string, port int) string {
	t.Helper()
	path := filepath.Join(dir, "orderhub.yaml")
	writeFile(t, path, fmt.Sprintf(`store: sqlite://%s
listen: 127.0.0.1:%d
`+apiTokens+`
timezone: Asia/Shanghai
log:
  level: warn
  format: text
ingest:
  sqlite_synchronous: FULL
systems:
  shop:
    kind: mall
    app_key: e2e-mall
    app_sign: %s
sources:
  shop_orders:
    system: shop
    mode: push
`, filepath.Join(dir, "orderhub.db"), port, appSign))
	return path
}

// server is one orderhub serve process with its base URL.
type server struct {
	*proc
	base string
}

// startServe writes a config with a fresh port and starts serve on dir's data.
func startServe(t *testing.T, dir string) *server {
	t.Helper()
	port := freePort(t)
	cfg := serveConfig(t, dir, port)
	return &server{proc: start(t, dir, "serve", "--config", cfg), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
}

// TestHealthzGreenMeansAccepting restarts serve on the same data five times,
// alternately after SIGTERM and kill -9, and pushes an order the moment
// /healthz first answers 200: green must mean pushes are accepted.
func TestHealthzGreenMeansAccepting(t *testing.T) {
	dir := t.TempDir()
	gen := mall.NewGenerator(uint64(time.Now().UnixNano()), appSign, shanghai, "G")
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer c.CloseIdleConnections()
	var pushed []string
	for i := 0; i < 5; i++ {
		s := startServe(t, dir)
		took := s.waitHealthy(s.base, 5*time.Millisecond, 10*time.Second)
		o := gen.New(time.Now())
		status, ans, err := push(context.Background(), c, s.base+"/v1/push/shop_orders", mall.Body(o))
		if err != nil || status != http.StatusCreated || ans.Result != "created" {
			t.Fatalf("start %d: the first push after /healthz turned green (%s) answered %d %+v %v; want 201 created", i, took, status, ans, err)
		}
		pushed = append(pushed, o.OrderNo)
		// Every order pushed before, by this node or earlier ones, is there.
		stored := listAll(t, c, s.base)
		for _, no := range pushed {
			if stored[no] != 1 {
				t.Errorf("start %d: order %s has version %d, want 1", i, no, stored[no])
			}
		}
		if len(stored) != len(pushed) {
			t.Errorf("start %d: %d orders stored, pushed %d", i, len(stored), len(pushed))
		}
		t.Logf("start %d: green after %s", i, took.Round(time.Millisecond))
		if i%2 == 0 {
			if code := s.stop(syscall.SIGTERM, 10*time.Second); code != 0 {
				t.Fatalf("start %d: serve exited %d after SIGTERM, want 0", i, code)
			}
		} else {
			if code := s.stop(syscall.SIGKILL, 10*time.Second); code != -1 {
				t.Fatalf("start %d: serve exited %d after SIGKILL", i, code)
			}
		}
	}
}
