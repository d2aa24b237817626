package webhookout

import (
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

func TestConformance(t *testing.T) {
	connectortest.RunSend(t, func(t *testing.T) connectortest.SendSetup {
		r := newRig(t, SimConfig{})
		return connectortest.SendSetup{
			Sender:    r.client(t, testSecret),
			Faults:    r.sim.Faults(),
			Received:  received(r.sim),
			BadSecret: r.client(t, otherSecret),
		}
	})
}

func received(sim *Sim) func() []connectortest.Received {
	return func() []connectortest.Received {
		var out []connectortest.Received
		for _, m := range sim.Received() {
			out = append(out, connectortest.Received{Body: m.Body, Text: string(m.Body)})
		}
		return out
	}
}

// The kind is registered as a sender with no provider limits: the spec
// states none, and a receiver that is overwhelmed says so with 429 or 503.
func TestRegistered(t *testing.T) {
	k, ok := connector.Lookup(Kind)
	if !ok || k.Send == nil {
		t.Fatalf("kind %s is not registered as a sender", Kind)
	}
	if k.Send.Limits != (connector.SendLimits{}) || k.Send.Addressed || k.Send.Provider != "Webhook" || k.Send.CodeName != "HTTP" {
		t.Fatalf("send capability %+v", k.Send)
	}
	if k.Push != nil || k.Pull != nil || k.Write != nil {
		t.Fatal("webhook_out only sends")
	}
}
