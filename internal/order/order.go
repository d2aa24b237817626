// Package order holds the hub's canonical order: the one shape every source is
// normalized into, and the rules that turn two versions of an order into the
// events (created, paid, shipped, …) that flows and rules react to.
package order

import (
	"time"
)

// Status is where an order stands in its life.
type Status string

// Statuses, in the order a normal sale passes through them; cancelled and
// refunded branch off.
const (
	StatusCreated   Status = "created" // placed, not paid
	StatusPaid      Status = "paid"
	StatusShipped   Status = "shipped"
	StatusCompleted Status = "completed" // buyer confirmed receipt
	StatusCancelled Status = "cancelled"
	StatusRefunded  Status = "refunded"
)

// Statuses lists every status, for validation and documentation.
var Statuses = []Status{StatusCreated, StatusPaid, StatusShipped, StatusCompleted, StatusCancelled, StatusRefunded}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Order is the canonical snapshot of one order from one source. Amounts are
// Money (fen, written as decimal strings); times carry their zone.
type Order struct {
	Source   string `json:"source"`
	OrderNo  string `json:"order_no"`
	Status   Status `json:"status"`
	Currency string `json:"currency"`
	// Total is what the buyer pays, freight included, discounts taken off.
	Total    Money    `json:"total"`
	Goods    Money    `json:"goods_amount"`
	Freight  Money    `json:"freight"`
	Discount Money    `json:"discount"`
	Refunded Money    `json:"refunded"`
	Buyer    Buyer    `json:"buyer"`
	Items    []Item   `json:"items"`
	Shipping Shipping `json:"shipping,omitzero"`
	Remark   string   `json:"remark,omitempty"`

	CreatedAt   time.Time `json:"created_at"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
	ShippedAt   time.Time `json:"shipped_at,omitzero"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	CancelledAt time.Time `json:"cancelled_at,omitzero"`
	// UpdatedAt is the source's own last-change time; it orders versions that
	// arrive out of sequence.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Buyer is who placed the order. Name, Phone and Address are PII.
type Buyer struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Address string `json:"address,omitempty"`
}

// Item is one order line.
type Item struct {
	SKU       string `json:"sku"`
	Name      string `json:"name,omitempty"`
	Spec      string `json:"spec,omitempty"` // e.g. 颜色:黑色
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
	Total     Money  `json:"total"`
}

// Shipping is how the goods travel.
type Shipping struct {
	Company    string `json:"company,omitempty"`
	TrackingNo string `json:"tracking_no,omitempty"`
}

// Masked returns a copy with the buyer's name, phone and address masked, the
// way it may be shown to anyone without the right to see PII.
func (o Order) Masked() Order {
	o.Buyer.Name = MaskName(o.Buyer.Name)
	o.Buyer.Phone = MaskPhone(o.Buyer.Phone)
	o.Buyer.Address = MaskAddress(o.Buyer.Address)
	return o
}

// In returns a copy with every time shown in loc.
func (o Order) In(loc *time.Location) Order {
	for _, t := range []*time.Time{&o.CreatedAt, &o.PaidAt, &o.ShippedAt, &o.CompletedAt, &o.CancelledAt, &o.UpdatedAt} {
		if !t.IsZero() {
			*t = t.In(loc)
		}
	}
	return o
}

// Warning is something odd about a document that was still accepted as
// sent, such as totals that disagree with the lines: a person should see it
// on the order's timeline.
type Warning struct {
	Code    string `json:"code"`            // stable, e.g. totals_mismatch
	Field   string `json:"field,omitempty"` // the sender's field
	Message string `json:"message"`
}

// Warning codes.
const (
	// WarnTotalsMismatch: the goods total differs from the sum of the lines
	// by more than rounding.
	WarnTotalsMismatch = "totals_mismatch"
)
