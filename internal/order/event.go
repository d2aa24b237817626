package order

import (
	"slices"
)

// EventType names a transition of an order.
type EventType string

// Event types derived from comparing versions. Later stages add derived ones
// (payment_timeout, risk.*).
const (
	EventCreated   EventType = "created"
	EventPaid      EventType = "paid"
	EventShipped   EventType = "shipped"
	EventCompleted EventType = "completed"
	EventCancelled EventType = "cancelled"
	EventRefunded  EventType = "refunded"
	EventChanged   EventType = "changed"
)

// EventTypes lists every event type, in the order of the normal path, for
// checks of configured names.
var EventTypes = []EventType{EventCreated, EventPaid, EventShipped, EventCompleted, EventCancelled, EventRefunded, EventChanged}

// progress is the normal path of a sale; an order first seen, or seen again,
// further along it has passed every step in between, and each step is an event
// a rule may wait for ("tell me when it is paid").
var progress = []Status{StatusCreated, StatusPaid, StatusShipped, StatusCompleted}

var statusEvent = map[Status]EventType{
	StatusCreated:   EventCreated,
	StatusPaid:      EventPaid,
	StatusShipped:   EventShipped,
	StatusCompleted: EventCompleted,
	StatusCancelled: EventCancelled,
	StatusRefunded:  EventRefunded,
}

// Transition returns the events implied by moving from prev to next. prev is
// nil for an order seen for the first time.
//
//   - first sight: created, then every step of the normal path up to next's
//     status (a paid order seen first yields created, paid); a cancelled or
//     refunded one yields created and cancelled/refunded.
//   - a status move forward along the path yields each step passed;
//     any move into cancelled or refunded yields that event.
//   - a change of what was bought, for how much, by whom or to where yields
//     changed, whether or not the status moved too.
func Transition(prev *Order, next *Order) []EventType {
	var evs []EventType
	if prev == nil {
		evs = append(evs, EventCreated)
		evs = append(evs, steps(StatusCreated, next.Status)...)
		return evs
	}
	if prev.Status != next.Status {
		evs = append(evs, steps(prev.Status, next.Status)...)
	}
	if !sameBusiness(prev, next) && !slices.Contains(evs, EventChanged) {
		evs = append(evs, EventChanged)
	}
	return evs
}

// steps lists the events for moving from one status to another.
func steps(from, to Status) []EventType {
	if from == to {
		return nil
	}
	fi, ti := slices.Index(progress, from), slices.Index(progress, to)
	switch {
	case ti > fi && fi >= 0:
		evs := make([]EventType, 0, ti-fi)
		for _, s := range progress[fi+1 : ti+1] {
			evs = append(evs, statusEvent[s])
		}
		return evs
	case to == StatusCancelled || to == StatusRefunded:
		return []EventType{statusEvent[to]}
	default:
		// Backwards along the path (a shipment recalled, a refund reversed) or
		// out of cancelled/refunded: no step event fits, so it is a change.
		return []EventType{EventChanged}
	}
}

// sameBusiness compares what a person would call the substance of an order:
// amounts, lines, buyer, address, remark, and a tracking number once one was
// given. Status and timestamps are left out (the status events cover them), and
// so are the first tracking number, which arrives with the shipped event, and
// the refunded amount of an order moving into refunded, which is what the
// refunded event reports.
func sameBusiness(a, b *Order) bool {
	sameShipping := a.Shipping == b.Shipping || a.Shipping.TrackingNo == ""
	sameRefund := a.Refunded == b.Refunded || (b.Status == StatusRefunded && a.Status != StatusRefunded)
	return a.Total == b.Total && a.Goods == b.Goods && a.Freight == b.Freight &&
		a.Discount == b.Discount && sameRefund && a.Currency == b.Currency &&
		a.Buyer == b.Buyer && a.Remark == b.Remark && sameShipping &&
		slices.Equal(a.Items, b.Items)
}
