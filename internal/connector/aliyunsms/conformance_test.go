package aliyunsms

import (
	"maps"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

func TestConformance(t *testing.T) {
	connectortest.RunSend(t, func(t *testing.T) connectortest.SendSetup {
		r := newRig(t, SimConfig{})
		s := goodSettings()
		s.Templates = maps.Clone(s.Templates)
		s.Templates[connectortest.SendTemplate] = Template{Code: codeNew, Params: []string{"order_no", "total"}}
		bad := s
		bad.AccessKeySecret = "not-the-AccessKey-secret"
		return connectortest.SendSetup{
			Sender:    r.client(t, s),
			Limits:    Limits,
			Faults:    r.sim.Faults(),
			Received:  received(r.sim),
			BadSecret: r.client(t, bad),
		}
	})
}

// received lists the SMS the simulator took, one per number, as the text
// the phone shows.
func received(sim *Sim) func() []connectortest.Received {
	return func() []connectortest.Received {
		var out []connectortest.Received
		for _, m := range sim.Received() {
			out = append(out, connectortest.Received{Text: m.Text})
		}
		return out
	}
}

// The kind is registered once, as a sender to people.
func TestRegistered(t *testing.T) {
	k, ok := connector.Lookup(Kind)
	if !ok || k.Send == nil {
		t.Fatalf("kind %s is not registered as a sender", Kind)
	}
	if !k.Send.Addressed || k.Send.Provider != "阿里云短信" || k.Send.CodeName != "Code" || k.Send.Limits != (connector.SendLimits{}) {
		t.Fatalf("send capability %+v", k.Send)
	}
}
