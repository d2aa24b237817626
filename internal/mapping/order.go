package mapping

import (
	"time"

	"orderhub/internal/order"
)

// OrderMap is the canonical order as expressions see it under order: the
// fields and names of the read API's JSON (order_no, status, total,
// items[].sku, …), amounts as decimal strings ("189.00"), times as RFC 3339
// text in loc (nil: as stored), absent times and empty optional fields left
// out as the API leaves them out.
func OrderMap(o order.Order, loc *time.Location) map[string]any {
	items := make([]any, len(o.Items))
	for i, it := range o.Items {
		m := map[string]any{
			"sku":        it.SKU,
			"quantity":   int(it.Quantity),
			"unit_price": it.UnitPrice.String(),
			"total":      it.Total.String(),
		}
		if it.Name != "" {
			m["name"] = it.Name
		}
		if it.Spec != "" {
			m["spec"] = it.Spec
		}
		items[i] = m
	}
	buyer := map[string]any{}
	for k, v := range map[string]string{"id": o.Buyer.ID, "name": o.Buyer.Name, "phone": o.Buyer.Phone, "address": o.Buyer.Address} {
		if v != "" {
			buyer[k] = v
		}
	}
	m := map[string]any{
		"source":       o.Source,
		"order_no":     o.OrderNo,
		"status":       string(o.Status),
		"currency":     o.Currency,
		"total":        o.Total.String(),
		"goods_amount": o.Goods.String(),
		"freight":      o.Freight.String(),
		"discount":     o.Discount.String(),
		"refunded":     o.Refunded.String(),
		"buyer":        buyer,
		"items":        items,
		"created_at":   timeText(o.CreatedAt, loc),
	}
	if o.Shipping != (order.Shipping{}) {
		s := map[string]any{}
		if o.Shipping.Company != "" {
			s["company"] = o.Shipping.Company
		}
		if o.Shipping.TrackingNo != "" {
			s["tracking_no"] = o.Shipping.TrackingNo
		}
		m["shipping"] = s
	}
	if o.Remark != "" {
		m["remark"] = o.Remark
	}
	for k, t := range map[string]time.Time{"paid_at": o.PaidAt, "shipped_at": o.ShippedAt, "completed_at": o.CompletedAt,
		"cancelled_at": o.CancelledAt, "updated_at": o.UpdatedAt} {
		if !t.IsZero() {
			m[k] = timeText(t, loc)
		}
	}
	return m
}

func timeText(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format(time.RFC3339Nano)
}
