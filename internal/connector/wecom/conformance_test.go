package wecom

import (
	"testing"

	"orderhub/internal/connector/connectortest"
)

func TestSendConformance(t *testing.T) {
	for _, msgType := range []string{TypeMarkdown, TypeMarkdownV2, TypeText, TypeNews} {
		t.Run(msgType, func(t *testing.T) {
			connectortest.RunSend(t, func(t *testing.T) connectortest.SendSetup {
				sim := NewSim(SimConfig{})
				sim.AddRobot("693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
				base := serve(t, sim)
				return connectortest.SendSetup{
					Sender:    testSender(t, base, "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", msgType, nil),
					BadSecret: testSender(t, base, "00000000-0000-0000-0000-000000000000", msgType, nil),
					Limits:    Limits,
					Faults:    sim.Faults(),
					Received: func() []connectortest.Received {
						var out []connectortest.Received
						for _, r := range sim.Received() {
							out = append(out, connectortest.Received{Body: r.Body, Text: r.Text})
						}
						return out
					},
				}
			})
		})
	}
}
