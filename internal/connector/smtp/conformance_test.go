package smtp

import (
	"context"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
	"orderhub/internal/connector/simfault"
	"orderhub/internal/testutil/mailpit"
)

// The sender conformance suite against a real server (STARTTLS and login,
// as a provider's port 587). Where the suite injects a fault, the server
// is made to answer it with its own refusal; SMTP has no throttling
// answer (a busy server says 421 or 451, which are retried) and no size
// limit the hub keeps, so those two cases do not apply.
func TestConformance(t *testing.T) {
	connectortest.RunSend(t, func(t *testing.T) connectortest.SendSetup {
		srv := authServer(t, "starttls", mailpit.Options{Chaos: true})
		faults := &simfault.Injector{}
		return connectortest.SendSetup{
			Sender:    &addressed{c: clientFor(t, srv, TLSStartTLS), srv: srv, faults: faults, t: t},
			Faults:    faults,
			Received:  received(t, srv),
			BadSecret: &addressed{c: clientFor(t, srv, TLSStartTLS, func(o *Options) { o.Password = "not-the-password" }), srv: srv, faults: faults, t: t},
			Throttled: func() { t.Skip("SMTP has no throttling answer: 421, 450, 451 and 452 are Retry (TestReplyClasses)") },
		}
	})
}

// addressed is the client as the hub uses it: the message goes to a
// person (the suite's message names no one), and a fault the suite
// injected is answered by the server: a server error is mailpit saying
// 451 to RCPT TO.
type addressed struct {
	c      *Client
	srv    *mailpit.Server
	faults *simfault.Injector
	t      *testing.T
}

func (a *addressed) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	if len(m.To) == 0 {
		m.To = []connector.Recipient{{Person: "zhang", Name: "张三", Email: "zhang@example.com"}}
	}
	if a.faults.Draw(nil).Has(simfault.ServerError) {
		a.srv.SetChaos(a.t, mailpit.Chaos{Recipient: mailpit.Trigger{ErrorCode: 451, Probability: 100}})
		defer a.srv.SetChaos(a.t, mailpit.Chaos{})
	}
	return a.c.Send(ctx, m)
}

func received(t *testing.T, srv *mailpit.Server) func() []connectortest.Received {
	return func() []connectortest.Received {
		var out []connectortest.Received
		list := srv.Messages(t)
		for i := len(list) - 1; i >= 0; i-- { // oldest first
			m := srv.Message(t, list[i].ID)
			out = append(out, connectortest.Received{Body: srv.Raw(t, m.ID), Text: m.Subject + "\n" + m.Text})
		}
		return out
	}
}

// The kind is registered once, as a sender to people without a rate of
// its own: mail servers publish none the hub could keep.
func TestRegistered(t *testing.T) {
	k, ok := connector.Lookup(Kind)
	if !ok || k.Send == nil {
		t.Fatalf("kind %s is not registered as a sender", Kind)
	}
	s := k.Send
	if !s.Addressed || s.Provider != "邮件" || s.CodeName != "SMTP" || s.Limits != (connector.SendLimits{}) || s.Pace != 0 {
		t.Fatalf("send capability %+v", s)
	}
}
