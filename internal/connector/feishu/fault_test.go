package feishu

import (
	"context"
	"net/http"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

func TestFaults(t *testing.T) {
	for _, c := range []struct {
		name     string
		fault    simfault.Fault
		timeout  time.Duration
		want     connector.Class
		recorded int // messages the bot took despite the error
	}{
		{"server error", simfault.Fault{Kind: simfault.ServerError, Count: 1}, 0, connector.Unknown, 0},
		{"lost answer", simfault.Fault{Kind: simfault.LoseAnswer, Count: 1}, 0, connector.Unknown, 1},
		{"throttle", simfault.Fault{Kind: simfault.Throttle, Count: 1}, 0, connector.SlowDown, 0},
		{"slow answer", simfault.Fault{Kind: simfault.Latency, Latency: 300 * time.Millisecond, Count: 1}, 50 * time.Millisecond, connector.Unknown, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			sim := NewSim(SimConfig{})
			sim.AddRobot(Robot{Token: simToken, Secret: simSecret})
			base := serve(t, sim)
			s, err := New(Config{System: "ops_feishu", Webhook: HookURL(base, simToken), Secret: simSecret, HTTP: &http.Client{Timeout: c.timeout}})
			if err != nil {
				t.Fatal(err)
			}
			sim.Faults().Inject(c.fault)
			_, err = s.Send(context.Background(), orderMsg)
			if got := connector.ClassOf(err); got != c.want {
				t.Fatalf("class %q (%v), want %q", got, err, c.want)
			}
			if n := len(sim.Received()); n != c.recorded {
				t.Fatalf("the bot took %d messages, want %d", n, c.recorded)
			}
			if _, err := s.Send(context.Background(), orderMsg); err != nil {
				t.Fatalf("after the fault: %v", err)
			}
		})
	}
}
