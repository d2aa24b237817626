package webhook

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"orderhub/internal/connector"
	"orderhub/internal/connector/stdwebhook"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// receiveStandard takes a push signed the Standard Webhooks way. The
// signature covers webhook-id, webhook-timestamp and the raw body, so it is
// checked before the body is parsed.
func (r *Receiver) receiveStandard(req *connector.PushRequest) (*connector.Pushed, error) {
	if p := stdwebhook.Verify(r.keys, req.Header, req.Body, req.Now, r.window); p != nil {
		if shape := connector.CheckShape(req.Body, isStandardName); shape != nil {
			return nil, shape
		}
		return nil, p
	}
	o, err := DecodeStandard(req.Body)
	if err != nil {
		return nil, err
	}
	return &connector.Pushed{Order: o, Raw: req.Body, Warnings: CheckTotals(&o)}, nil
}

// envelope is the Standard Webhooks payload another orderhub's webhook_out
// sends (connector.OrderEvent): the order under data.
type envelope struct {
	Type      string       `json:"type"`
	Timestamp time.Time    `json:"timestamp,omitzero"`
	Data      *order.Order `json:"data"`
}

// isEnvelopeName reports the envelope's top-level names.
func isEnvelopeName(name string) bool {
	return name == "type" || name == "timestamp" || name == "data"
}

func isStandardName(name string) bool { return isOrderName(name) || isEnvelopeName(name) }

// DecodeStandard reads the body of a Standard Webhooks push: an event
// envelope {"type":"order.<event>","timestamp":…,"data":{order}}, or the
// canonical order itself. Both are read as strictly as Decode reads an
// order. Inside an envelope, data.source (the sending hub's own name for
// the source) is dropped: this hub names the source by its push URL.
func DecodeStandard(body []byte) (order.Order, error) {
	if !hasTopLevel(body, isEnvelopeName) {
		return Decode(body)
	}
	var env envelope
	if p := connector.Decode(body, &env, json.RejectUnknownMembers(true)); p != nil {
		if p.Code == "unknown_field" && p.Field != "" && !strings.HasPrefix(p.Field, "data") {
			p.Detail = "an event envelope has only type, timestamp and data (the order) at the top level; leave other members out (the message's id travels in webhook-id)"
		}
		return order.Order{}, p
	}
	if env.Type == "" {
		p := problem.New(http.StatusUnprocessableEntity, "missing_field", "required field type is missing or empty",
			"send type: order.<event>, e.g. order.paid, beside data")
		p.Field = "type"
		return order.Order{}, p
	}
	if _, ok := connector.EventOf(env.Type); !ok {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field",
			fmt.Sprintf("type %s is not an order event", connector.Quote(env.Type)),
			"send type: order.<event> (order.created, order.paid, order.shipped, …) with the order under data")
		p.Field = "type"
		return order.Order{}, p
	}
	if env.Data == nil {
		p := problem.New(http.StatusUnprocessableEntity, "missing_field", "required field data is missing or null",
			"send the order, as orderhub's canonical order JSON, under data")
		p.Field = "data"
		return order.Order{}, p
	}
	o := *env.Data
	o.Source = ""
	if p := checkOrder(&o, "data."); p != nil {
		return o, p
	}
	return o, nil
}

// hasTopLevel reports whether body is an object with a top-level name that
// known accepts. A body that is not an object says false: Decode then gives
// the reason.
func hasTopLevel(body []byte, known func(string) bool) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return false
		}
		if known(tok.String()) {
			return true
		}
		if err := dec.SkipValue(); err != nil {
			return false
		}
	}
	return false
}
