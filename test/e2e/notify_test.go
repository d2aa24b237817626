package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/dingtalk"
	"orderhub/internal/connector/mall"
)

const (
	e2eRobotToken  = "e2e-robot"
	e2eRobotSecret = "SECe2e0123456789abcdef0123456789abcdef0123456789abcdef01234567"
)

// notifyConfig is serve's config with a 钉钉 robot at robotURL and rule.
func notifyConfig(t *testing.T, dir string, port int, robotURL, rule string) string {
	t.Helper()
	path := filepath.Join(dir, "orderhub.yaml")
	writeFile(t, path, fmt.Sprintf(`store: sqlite://%s
listen: 127.0.0.1:%d
`+apiTokens+`
timezone: Asia/Shanghai
log:
  level: warn
  format: text
systems:
  shop:
    kind: mall
    app_key: e2e-mall
    app_sign: %s
  ops_ding:
    kind: dingtalk_robot
    webhook: %s
    secret: %s
    keyword: 订单
sources:
  shop_orders:
    system: shop
    mode: push
rules:
%s`, filepath.Join(dir, "orderhub.db"), port, appSign, dingtalk.WebhookURL(robotURL, e2eRobotToken), e2eRobotSecret, rule))
	return path
}

// TestDigestSurvivesKill9 collects new orders into a digest sent on the
// minute, kills serve with SIGKILL in the middle of the minute, restarts it
// and collects more: when the minute comes, every order is in a digest the
// robot took, and not one is told twice.
func TestDigestSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	sim := dingtalk.NewSim(dingtalk.SimConfig{})
	sim.AddRobot(e2eRobotToken, e2eRobotSecret, "订单")
	robot := httptest.NewServer(sim)
	defer robot.Close()
	port := freePort(t)
	cfg := notifyConfig(t, dir, port, robot.URL, "  every_minute: {on: [created], channels: [ops_ding], template: new_order, digest: {every: 1m}}\n")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	gen := mall.NewGenerator(uint64(time.Now().UnixNano()), appSign, shanghai, "N")
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()

	// Start early in a minute, so that the kill falls inside its window.
	if s := time.Now().Second(); s > 40 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	var pushed []string
	pushSome := func(n int) {
		for range n {
			o := gen.New(time.Now())
			status, ans, err := push(context.Background(), c, base+"/v1/push/shop_orders", mall.Body(o))
			if err != nil || status != http.StatusCreated {
				t.Fatalf("push %s: %d %+v %v", o.OrderNo, status, ans, err)
			}
			pushed = append(pushed, o.OrderNo)
		}
	}
	p := start(t, dir, "serve", "--config", cfg)
	p.waitHealthy(base, 10*time.Millisecond, 10*time.Second)
	pushSome(15)
	time.Sleep(300 * time.Millisecond) // the events reach the rules
	p.stop(syscall.SIGKILL, 5*time.Second)
	if n := sim.Len(); n != 0 {
		t.Logf("the robot already took %d messages before the kill (the minute turned)", n)
	}

	p = start(t, dir, "serve", "--config", cfg)
	p.waitHealthy(base, 10*time.Millisecond, 10*time.Second)
	pushSome(15)

	deadline := time.Now().Add(100 * time.Second)
	for {
		shown := shownBy(sim)
		all := true
		for _, no := range pushed {
			if !strings.Contains(shown, no) {
				all = false
				break
			}
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the minute the robot has not been told of every order; it took %d messages:\n%s", sim.Len(), shown)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // anything sent twice would arrive now
	shown := shownBy(sim)
	for _, no := range pushed {
		if n := strings.Count(shown, "["+no+"]"); n != 1 {
			t.Errorf("order %s is told %d times, want once", no, n)
		}
	}
	for _, m := range sim.ReceivedBy(e2eRobotToken) {
		if !strings.Contains(m.Title, "汇总") {
			t.Errorf("a message that is not a digest reached the robot: %s", m.Title)
		}
	}
	if rej := sim.Rejected(); len(rej) > 0 {
		t.Errorf("the robot refused %d calls: %+v", len(rej), rej[0])
	}
	t.Logf("%d orders in %d digests", len(pushed), sim.Len())
	p.stop(syscall.SIGTERM, 10*time.Second)
}

func shownBy(sim *dingtalk.Sim) string {
	var b strings.Builder
	for _, m := range sim.ReceivedBy(e2eRobotToken) {
		b.WriteString(m.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
