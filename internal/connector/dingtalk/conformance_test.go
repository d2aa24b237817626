package dingtalk

import (
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

func TestConformance(t *testing.T) {
	for _, mt := range []string{TypeMarkdown, TypeText, TypeActionCard} {
		t.Run(mt, func(t *testing.T) {
			connectortest.RunSend(t, func(t *testing.T) connectortest.SendSetup {
				r := newRig(t, SimConfig{})
				s := goodSettings()
				s.MsgType = mt
				bad := s
				bad.Secret = "SECnot-the-robots-secret"
				return connectortest.SendSetup{
					Sender:    r.client(t, s),
					Limits:    Limits,
					Faults:    r.sim.Faults(),
					Received:  received(r.sim),
					Keyword:   testKeyword,
					BadSecret: r.client(t, bad),
				}
			})
		})
	}
}

func received(sim *Sim) func() []connectortest.Received {
	return func() []connectortest.Received {
		var out []connectortest.Received
		for _, m := range sim.Received() {
			out = append(out, connectortest.Received{Body: m.Body, Text: m.Text})
		}
		return out
	}
}

// The kind is registered once with the provider's limits.
func TestRegistered(t *testing.T) {
	k, ok := connector.Lookup(Kind)
	if !ok || k.Send == nil {
		t.Fatalf("kind %s is not registered as a sender", Kind)
	}
	if k.Send.Limits != (connector.SendLimits{PerMinute: 20, MaxBytes: 20000}) {
		t.Fatalf("limits %+v", k.Send.Limits)
	}
}
