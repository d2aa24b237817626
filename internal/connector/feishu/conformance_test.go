package feishu

import (
	"testing"

	"orderhub/internal/connector/connectortest"
)

func TestSendConformance(t *testing.T) {
	for _, msgType := range []string{TypeInteractive, TypePost, TypeText} {
		t.Run(msgType, func(t *testing.T) {
			connectortest.RunSend(t, func(t *testing.T) connectortest.SendSetup {
				sim := NewSim(SimConfig{})
				sim.AddRobot(Robot{Token: simToken, Secret: simSecret, Keywords: []string{"订单"}})
				url := HookURL(serve(t, sim), simToken)
				return connectortest.SendSetup{
					Sender:    testSender(t, Config{Webhook: url, Secret: simSecret, Keyword: "订单", MsgType: msgType}),
					BadSecret: testSender(t, Config{Webhook: url, Secret: "not-the-secret", Keyword: "订单", MsgType: msgType}),
					Limits:    Limits,
					Faults:    sim.Faults(),
					Keyword:   "订单",
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
