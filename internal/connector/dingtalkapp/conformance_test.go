package dingtalkapp

import (
	"context"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

// addressed gives every message the recipients the hub would: the suite's
// messages are written for robots, which need none.
type addressed struct {
	connector.Sender
	to []connector.Recipient
}

func (a addressed) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	m.To = a.to
	return a.Sender.Send(ctx, m)
}

func TestConformance(t *testing.T) {
	for _, mt := range []string{TypeMarkdown, TypeActionCard} {
		t.Run(mt, func(t *testing.T) {
			connectortest.RunSend(t, func(t *testing.T) connectortest.SendSetup {
				r := newRig(t, SimConfig{})
				s := goodSettings()
				s.MsgType = mt
				bad := s
				bad.AppSecret = "not-the-apps-secret"
				to := append(people("u1"), connector.Recipient{DingDept: "20"})
				return connectortest.SendSetup{
					Sender:    addressed{r.client(t, s, nil), to},
					Limits:    Limits,
					Faults:    r.sim.Faults(),
					Received:  received(r.sim),
					BadSecret: addressed{r.client(t, bad, nil), to},
				}
			})
		})
	}
}

// received is what the suite checks: the msg object of each accepted call
// (the part of the request DingTalk bounds) and what it shows.
func received(sim *Sim) func() []connectortest.Received {
	return func() []connectortest.Received {
		var out []connectortest.Received
		for _, c := range sim.Calls() {
			out = append(out, connectortest.Received{Body: c.Msg, Text: c.Text})
		}
		return out
	}
}

// The kind is registered once, as a sender to people, with its limits.
func TestRegistered(t *testing.T) {
	k, ok := connector.Lookup(Kind)
	if !ok || k.Send == nil {
		t.Fatalf("kind %s is not registered as a sender", Kind)
	}
	want := connector.SendLimits{PerSecond: 20, MaxBytes: 2048}
	if k.Send.Limits != want || !k.Send.Addressed || k.Send.Provider != "钉钉" || k.Send.CodeName != "errcode" {
		t.Fatalf("%+v", k.Send)
	}
}
