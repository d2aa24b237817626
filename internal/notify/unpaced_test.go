package notify_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/dingtalk"
	"orderhub/internal/store"
)

// failAt answers the call numbered at with err, and passes every other
// call on; it notes the clock's time of each call.
type failAt struct {
	next connector.Sender
	now  func() time.Time
	at   int
	err  error

	mu    sync.Mutex
	calls []time.Time
}

func (f *failAt) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, f.now())
	n := len(f.calls)
	f.mu.Unlock()
	if n == f.at {
		return connector.SendResult{}, f.err
	}
	return f.next.Send(ctx, m)
}

// On an endpoint without a pace the next step is claimed while a step's
// calls are in flight. When one of those calls is throttled or fails in
// transport (a retry and an unknown outcome pause alike), the step claimed
// ahead is not sent: the endpoint's pause stops
// every call after the ones already made, as step by step, and nothing is
// lost or sent twice.
func TestUnpacedEndpointStopsAtAPause(t *testing.T) {
	const step = 256 // the most an unpaced step claims
	tests := []struct {
		name  string
		err   error
		pause time.Duration // at least
	}{
		{"throttled", &connector.CallError{Class: connector.SlowDown, Code: "130101", RetryAfter: 30 * time.Second}, 30 * time.Second},
		{"timeout after sending", &connector.CallError{Class: connector.Unknown, Message: "timeout"}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{NoRateLimit: true})
			e.ep.Limits = connector.SendLimits{MaxBytes: dingtalk.MaxBytes}
			f := &failAt{next: e.ep.Sender, now: e.clock.Now, at: 10, err: tt.err}
			e.ep.Sender = f
			nos := e.push(2*step, 18900)
			began := e.clock.Now()
			e.drain()

			before := 0
			for _, at := range f.calls {
				if at.Before(began.Add(tt.pause)) {
					before++
				}
			}
			if before > step {
				t.Errorf("%d calls before the pause ended; want at most the %d of the step in flight", before, step)
			}
			if len(f.calls) != 2*step+1 {
				t.Errorf("%d calls for %d messages and one failure", len(f.calls), 2*step)
			}
			// As many messages as orders, every order in one: each told once.
			if got := len(e.sim.ReceivedBy(robotToken)); got != len(nos) {
				t.Errorf("the robot took %d messages for %d orders", got, len(nos))
			}
			shown := e.shown()
			for _, no := range nos {
				if !strings.Contains(shown, no) {
					t.Fatalf("order %s reached no message", no)
				}
			}
			for _, d := range e.deliveries(store.DeliveryFilter{}) {
				if d.State != store.DeliverySent {
					t.Errorf("delivery %d (%s) is %s", d.ID, d.OrderNo, d.State)
				}
			}
		})
	}
}

// The timeline step of a message sent alone carries the same fields as a
// digest's members do: answer, code, kind, rule, system, delivery, and why
// it waited when it did.
func TestNotifiedStepFields(t *testing.T) {
	e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
	nos := e.push(1, 100)
	e.drain()
	rec, err := e.store.GetOrder(context.Background(), "shop_orders", nos[0])
	if err != nil {
		t.Fatal(err)
	}
	tl, err := e.store.Timeline(context.Background(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range tl {
		if s.Stage != "notified" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(s.Detail, &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			got = append(got, k)
		}
		if m["answer"] != "钉钉 errcode 0" || m["code"] != "0" || m["kind"] != store.KindMessage || m["rule"] != "new_order" || m["delivery"] == nil {
			t.Errorf("notified step %s", s.Detail)
		}
	}
	slices.Sort(got)
	if want := []string{"answer", "code", "delivery", "kind", "rule", "system"}; !slices.Equal(got, want) {
		t.Errorf("notified step fields %v, want %v", got, want)
	}
}
