package connectortest

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// Received is one message as the simulator took it.
type Received struct {
	// Body is the request body the provider received.
	Body []byte
	// Text is every piece of text the message shows a person (title,
	// body, card elements), joined, for assertions.
	Text string
}

// SendSetup is one sender pointed at its simulator.
type SendSetup struct {
	Sender connector.Sender
	Limits connector.SendLimits
	Faults *simfault.Injector
	// Received lists what the simulator accepted, oldest first.
	Received func() []Received
	// Keyword is the keyword the endpoint requires ("" for none).
	Keyword string
	// BadSecret is a sender of the same endpoint with a wrong secret or
	// token.
	BadSecret connector.Sender
	// Throttled makes the simulator refuse the next call with the
	// provider's own throttling answer (usually the Throttle fault).
	Throttled func()
}

// SendTemplate is the rule template the suite's message names, for a
// sender that maps rule templates to its provider's approved ones (SMS).
const SendTemplate = "big_order"

// RunSend runs the sender conformance suite.
func RunSend(t *testing.T, setup func(t *testing.T) SendSetup) {
	ctx := context.Background()
	msg := connector.Message{
		Title:     "新订单 D20261126005009000001",
		Markdown:  "### 新订单 D20261126005009000001\n\n- 金额：**¥5,999.00**\n- 买家：138****1234\n\n[查看订单](http://127.0.0.1:8080/orders/shop/D20261126005009000001)",
		Text:      "新订单 D20261126005009000001 金额 ¥5,999.00",
		Link:      "http://127.0.0.1:8080/orders/shop/D20261126005009000001",
		AtMobiles: []string{"13800001234"},
		Key:       "big_order/shop/D20261126005009000001/created",
		// What a rule gives a channel that sends to people; robots ignore
		// it. An addressed sender's setup must know Template.
		To:       []connector.Recipient{{Person: "zhang", Name: "张三", DingUserID: "manager4220", Mobile: "13800001234", Email: "zhang@example.com"}},
		Template: SendTemplate,
		Vars: map[string]string{"order_no": "D20261126005009000001", "source": "shop", "shop": "某某商城", "total": "¥5,999.00",
			"status": "已付款", "event": "created", "buyer": "138****1234", "link": "http://127.0.0.1:8080/orders/shop/D20261126005009000001"},
	}
	t.Run("SendsAndCarriesTheKeyword", func(t *testing.T) {
		s := setup(t)
		res, err := s.Sender.Send(ctx, msg)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if res.Cut {
			t.Error("a small message was cut")
		}
		got := s.Received()
		if len(got) != 1 {
			t.Fatalf("the simulator took %d messages, want 1", len(got))
		}
		if !strings.Contains(got[0].Text, "D20261126005009000001") {
			t.Errorf("the message shows %q; the order number is missing", got[0].Text)
		}
		if s.Keyword != "" && !strings.Contains(got[0].Text, s.Keyword) {
			t.Errorf("the message shows %q; the endpoint's keyword %q is missing", got[0].Text, s.Keyword)
		}
	})
	t.Run("OversizedIsCutNotRefused", func(t *testing.T) {
		s := setup(t)
		if s.Limits.MaxBytes <= 0 {
			t.Skip("the provider states no size limit")
		}
		big := msg
		row := "| D20261126005009000001 | ¥5,999.00 | 已付款 |\n"
		big.Markdown = "### 另有很多笔新订单\n\n| 订单 | 金额 | 状态 |\n|---|---|---|\n" + strings.Repeat(row, s.Limits.MaxBytes/len(row)+50)
		big.Text = strings.Repeat("D20261126005009000001 ", s.Limits.MaxBytes/22+50)
		res, err := s.Sender.Send(ctx, big)
		if err != nil {
			t.Fatalf("an oversized message was refused: %v", err)
		}
		if !res.Cut {
			t.Error("an oversized message was sent without being cut")
		}
		got := s.Received()
		if len(got) != 1 {
			t.Fatalf("the simulator took %d messages", len(got))
		}
		if len(got[0].Body) > s.Limits.MaxBytes {
			t.Fatalf("the body is %d bytes, over the limit of %d", len(got[0].Body), s.Limits.MaxBytes)
		}
		if !strings.Contains(got[0].Text, "…") || !strings.Contains(got[0].Text, msg.Link) {
			t.Errorf("a cut message must end with … and the link; it shows %q", tail(got[0].Text))
		}
	})
	t.Run("ThrottleIsSlowDown", func(t *testing.T) {
		s := setup(t)
		if s.Throttled != nil {
			s.Throttled()
		} else {
			s.Faults.Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1})
		}
		_, err := s.Sender.Send(ctx, msg)
		wantClass(t, err, connector.SlowDown)
		if _, err := s.Sender.Send(ctx, msg); err != nil {
			t.Fatalf("after the throttle: %v", err)
		}
	})
	t.Run("BadSecretIsPermanentWithHint", func(t *testing.T) {
		s := setup(t)
		_, err := s.BadSecret.Send(ctx, msg)
		ce := wantClass(t, err, connector.Permanent)
		if ce.Hint == "" || ce.Code == "" {
			t.Errorf("refusal %+v: want the provider's code and a hint of what to fix", ce)
		}
		if n := len(s.Received()); n != 0 {
			t.Fatalf("a refused message was recorded %d times", n)
		}
	})
	t.Run("ServerErrorIsNeverPermanent", func(t *testing.T) {
		s := setup(t)
		s.Faults.Inject(simfault.Fault{Kind: simfault.ServerError, Count: 1})
		_, err := s.Sender.Send(ctx, msg)
		if c := connector.ClassOf(err); c != connector.Retry && c != connector.Unknown {
			t.Fatalf("a 5xx is %q (%v); want retry or unknown_outcome", c, err)
		}
	})
}

func tail(s string) string {
	r := []rune(s)
	if len(r) > 120 {
		return string(r[len(r)-120:])
	}
	return s
}
