package order_test

import (
	"fmt"

	"orderhub/internal/order"
)

// Transition turns two versions of an order into the events rules react to.
func ExampleTransition() {
	placed := &order.Order{OrderNo: "A1", Status: order.StatusCreated, Total: 300}

	// Seen for the first time, already paid: created and paid.
	paid := *placed
	paid.Status = order.StatusPaid
	fmt.Println(order.Transition(nil, &paid))

	// Shipped with its first tracking number: only shipped.
	shipped := paid
	shipped.Status = order.StatusShipped
	shipped.Shipping = order.Shipping{Company: "顺丰速运", TrackingNo: "SF1234567890"}
	fmt.Println(order.Transition(&paid, &shipped))

	// The shop changes the price and the buyer confirms receipt at once.
	done := shipped
	done.Status = order.StatusCompleted
	done.Total = 250
	fmt.Println(order.Transition(&shipped, &done))

	// The same version again: nothing happened.
	fmt.Println(len(order.Transition(&done, &done)))
	// Output:
	// [created paid]
	// [shipped]
	// [completed changed]
	// 0
}
