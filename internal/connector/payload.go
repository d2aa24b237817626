package connector

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"orderhub/internal/order"
)

// OrderEvent is the payload of a message that carries data rather than
// text (Message.Payload, sent by an outgoing webhook): the event and the
// order, in the shape the Standard Webhooks spec recommends, so that a
// receiver routes on type and another orderhub's webhook source with
// `scheme: standard` takes it as it is:
//
//	{"type":"order.paid","timestamp":"2026-11-26T10:00:00+08:00","data":{…the order…}}
type OrderEvent struct {
	// Type is "order." and the event: order.created, order.paid, …
	Type string `json:"type"`
	// Timestamp is when the event happened (not when it is delivered: a
	// retry a day later carries the same one).
	Timestamp time.Time `json:"timestamp"`
	// Data is the order as the read API shows it, source included.
	Data order.Order `json:"data"`
}

// EventTypePrefix begins every OrderEvent type.
const EventTypePrefix = "order."

// OrderEventPayload is Message.Payload for event ev of order o, which
// happened at at.
func OrderEventPayload(ev order.EventType, at time.Time, o order.Order) (json.RawMessage, error) {
	if ev == "" {
		return nil, fmt.Errorf("order event payload: no event type")
	}
	b, err := json.Marshal(OrderEvent{Type: EventTypePrefix + string(ev), Timestamp: at, Data: o})
	if err != nil {
		return nil, fmt.Errorf("order event payload for %s %s: %w", o.OrderNo, ev, err)
	}
	return b, nil
}

// EventOf returns the event of an OrderEvent type ("order.paid" → paid).
func EventOf(typ string) (order.EventType, bool) {
	ev, ok := strings.CutPrefix(typ, EventTypePrefix)
	return order.EventType(ev), ok && ev != ""
}
