package wdt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/order"
)

// Money reads an amount in fen. 旺店通 keeps four decimals (src_price
// eight) because unit prices are shares of an order's discount
// (share_price = share_amount / num); the canonical order holds fen, so
// the digits beyond the fen are rounded half away from zero, in decimal.
// The document's raw JSON keeps the exact value for mappings that need it.
// An empty amount is 0.
func (d Decimal) Money() (order.Money, error) {
	if d == "" {
		return 0, nil
	}
	neg, whole, frac, err := decimalParts(string(d))
	if err != nil {
		return 0, err
	}
	up := false
	if len(frac) > 2 {
		up = frac[2] >= '5'
		frac = frac[:2]
	}
	if len(whole) > 15 {
		return 0, fmt.Errorf("%q is too large", string(d))
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	v := w*100 + f
	if up {
		v++
	}
	if neg {
		v = -v
	}
	return order.Money(v), nil
}

// wdtTime is how 旺店通 writes times, in Asia/Shanghai.
const wdtTime = "2006-01-02 15:04:05"

// docError is a document the canonical form cannot hold, with the field
// that failed and what a person should do, in Chinese.
type docError struct {
	doc, field, value, msg, hint string
}

func (e *docError) Error() string {
	return fmt.Sprintf("document %s: field %s = %q: %s", e.doc, e.field, e.value, e.msg)
}

// parseTime reads 旺店通's local times. Its "no time" values
// ("0000-00-00 00:00:00", "1970-01-01 08:00:00", empty) are the zero time.
func parseTime(doc, field, s string, loc *time.Location) (time.Time, error) {
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(wdtTime, s, loc)
	if err != nil {
		return time.Time{}, &docError{doc, field, s, "not a time like 2026-01-02 15:04:05",
			"旺店通返回的时间格式无法识别：请确认 base_url 指向旺店通企业版接口"}
	}
	if t.Unix() <= 0 {
		return time.Time{}, nil
	}
	return t, nil
}

func money(doc, field string, d Decimal) (order.Money, error) {
	m, err := d.Money()
	if err != nil {
		return 0, &docError{doc, field, string(d), err.Error(), "旺店通返回的金额无法识别：请在旺店通中检查该单据的金额"}
	}
	return m, nil
}

func quantity(doc, field, sku string, d Decimal) (int64, error) {
	n, err := d.Quantity()
	if err != nil {
		return 0, &docError{doc, field, string(d), err.Error(),
			fmt.Sprintf("单据 %s 中货品 %s 的数量 %s 不是整数：orderhub 只按整数件数记录订单；请在旺店通中把该货品改为整件计量（如按克而非千克），修改单据后它会重新同步", doc, sku, string(d))}
	}
	if n <= 0 {
		return 0, &docError{doc, field, string(d), "quantity must be positive",
			fmt.Sprintf("单据 %s 中货品 %s 的数量为 %s：请在旺店通中改正数量，修改单据后它会重新同步", doc, sku, string(d))}
	}
	return n, nil
}

// The trade_status codes of erp.md 1.3 and the canonical status each
// means. Cancellation (5) wins over everything; a full refund
// (refund_status 3) wins over the delivery stages.
//
//	5                                   cancelled
//	10 12 15                            created   (unpaid, awaiting balance, waiting-unpaid)
//	13 16 19 20 21 22 25 27 30 35 40
//	45 50 53 55                         paid      (in 旺店通's processing, not yet shipped)
//	95 105 113                          shipped   (shipped, partially settled, shipped with exception)
//	110                                 completed
//
// A code not in the table (a newer 旺店通 version) is paid when the trade
// has a pay_time, else created.
var tradeStatuses = map[int64]order.Status{
	5:  order.StatusCancelled,
	10: order.StatusCreated, 12: order.StatusCreated, 15: order.StatusCreated,
	13: order.StatusPaid, 16: order.StatusPaid, 19: order.StatusPaid, 20: order.StatusPaid, 21: order.StatusPaid,
	22: order.StatusPaid, 25: order.StatusPaid, 27: order.StatusPaid, 30: order.StatusPaid, 35: order.StatusPaid,
	40: order.StatusPaid, 45: order.StatusPaid, 50: order.StatusPaid, 53: order.StatusPaid, 55: order.StatusPaid,
	95: order.StatusShipped, 105: order.StatusShipped, 113: order.StatusShipped,
	110: order.StatusCompleted,
}

// refundAll is the trade refund_status of a fully refunded trade (0 none,
// 1 applied for, 2 partly refunded, 3 fully refunded).
const refundAll = 3

func tradeStatus(t *Trade, paid bool) order.Status {
	st, ok := tradeStatuses[int64(t.TradeStatus)]
	switch {
	case st == order.StatusCancelled:
		return st
	case t.RefundStatus == refundAll:
		return order.StatusRefunded
	case ok:
		return st
	case paid:
		return order.StatusPaid
	default:
		return order.StatusCreated
	}
}

// normalizeTrade turns a trade into the canonical order. The buyer's
// name, phone and address come from receiver_*: PII, masked wherever the
// hub shows them.
func normalizeTrade(t *Trade, loc *time.Location) (order.Order, error) {
	var o order.Order
	no := t.TradeNo
	if strings.TrimSpace(no) == "" {
		return o, &docError{"(unnumbered trade)", "trade_no", "", "missing", "旺店通返回了没有订单编号的订单：请检查 base_url 是否指向旺店通企业版接口"}
	}
	o.OrderNo, o.Currency = no, "CNY"
	var err error
	if o.UpdatedAt, err = parseTime(no, "modified", t.Modified, loc); err != nil {
		return o, err
	}
	if o.UpdatedAt.IsZero() {
		return o, &docError{no, "modified", t.Modified, "missing", "旺店通返回的订单缺少最后修改时间：无法按时间增量同步"}
	}
	created := t.TradeTime
	field := "trade_time"
	if created == "" || strings.HasPrefix(created, "0000") {
		created, field = t.Created, "created"
	}
	if o.CreatedAt, err = parseTime(no, field, created, loc); err != nil {
		return o, err
	}
	if o.PaidAt, err = parseTime(no, "pay_time", t.PayTime, loc); err != nil {
		return o, err
	}
	for _, m := range []struct {
		field string
		in    Decimal
		out   *order.Money
	}{{"goods_amount", t.GoodsAmount, &o.Goods}, {"post_amount", t.PostAmount, &o.Freight},
		{"discount", t.Discount, &o.Discount}, {"receivable", t.Receivable, &o.Total}} {
		if *m.out, err = money(no, m.field, m.in); err != nil {
			return o, err
		}
	}
	o.Status = tradeStatus(t, !o.PaidAt.IsZero())
	phone := t.ReceiverMobile
	if phone == "" {
		phone = t.ReceiverTelno
	}
	addr := t.ReceiverAddr
	if t.ReceiverArea != "" {
		addr = strings.TrimSpace(t.ReceiverArea + " " + addr)
	}
	o.Buyer = order.Buyer{ID: t.CustomerNo, Name: t.ReceiverName, Phone: phone, Address: addr}
	o.Shipping = order.Shipping{Company: t.LogisticsName, TrackingNo: t.LogisticsNo}
	o.Remark = t.BuyerMessage
	o.Items = make([]order.Item, 0, len(t.GoodsList))
	for i := range t.GoodsList {
		g := &t.GoodsList[i]
		path := func(f string) string { return fmt.Sprintf("goods_list[%d].%s", i, f) }
		it := order.Item{SKU: g.SpecNo, Name: g.GoodsName, Spec: g.SpecName}
		if it.Quantity, err = quantity(no, path("num"), g.SpecNo, g.Num); err != nil {
			return o, err
		}
		if it.UnitPrice, err = money(no, path("share_price"), g.SharePrice); err != nil {
			return o, err
		}
		if it.Total, err = money(no, path("share_amount"), g.ShareAmount); err != nil {
			return o, err
		}
		o.Items = append(o.Items, it)
	}
	return o, nil
}

// The stock-in statuses of erp.md 1.4: 10 cancelled, 20 editing, 30
// awaiting review, 60 awaiting settlement, 80 completed. A completed
// return stock-in is money and goods back: refunded; a cancelled one is
// cancelled; every other stage is created.
const (
	stockinCancelled = 10
	stockinCompleted = 80
)

// normalizeStockin turns a return stock-in into the canonical form: the
// refunded amount is what was actually refunded (actual_refund_amount,
// else the lines' src_price × num).
func normalizeStockin(s *Stockin, loc *time.Location) (order.Order, error) {
	var o order.Order
	no := s.OrderNo
	if strings.TrimSpace(no) == "" {
		return o, &docError{"(unnumbered stock-in)", "order_no", "", "missing", "旺店通返回了没有入库单号的退货入库单：请检查 base_url 是否指向旺店通企业版接口"}
	}
	o.OrderNo, o.Currency = no, "CNY"
	var err error
	if o.UpdatedAt, err = parseTime(no, "modified", s.Modified, loc); err != nil {
		return o, err
	}
	if o.UpdatedAt.IsZero() {
		return o, &docError{no, "modified", s.Modified, "missing", "旺店通返回的退货入库单缺少最后修改时间：无法按时间增量同步"}
	}
	created, field := s.CreatedTime, "created_time"
	if created == "" || strings.HasPrefix(created, "0000") {
		created, field = s.StockinTime, "stockin_time"
	}
	if o.CreatedAt, err = parseTime(no, field, created, loc); err != nil {
		return o, err
	}
	switch s.Status {
	case stockinCompleted:
		o.Status = order.StatusRefunded
		if o.CompletedAt, err = parseTime(no, "check_time", s.CheckTime, loc); err != nil {
			return o, err
		}
	case stockinCancelled:
		o.Status = order.StatusCancelled
	default:
		o.Status = order.StatusCreated
	}
	o.Buyer = order.Buyer{ID: s.CustomerNo, Name: s.CustomerName}
	o.Shipping = order.Shipping{Company: s.LogisticsName, TrackingNo: s.LogisticsNo}
	o.Remark = s.Remark
	if o.Goods, err = money(no, "goods_amount", s.GoodsAmount); err != nil {
		return o, err
	}
	if o.Freight, err = money(no, "post_fee", s.PostFee); err != nil {
		return o, err
	}
	var lines order.Money
	o.Items = make([]order.Item, 0, len(s.DetailsList))
	for i := range s.DetailsList {
		d := &s.DetailsList[i]
		path := func(f string) string { return fmt.Sprintf("details_list[%d].%s", i, f) }
		it := order.Item{SKU: d.SpecNo, Name: d.GoodsName}
		if it.Quantity, err = quantity(no, path("num"), d.SpecNo, d.Num); err != nil {
			return o, err
		}
		price, field := d.SrcPrice, "src_price"
		if price == "" {
			price, field = d.StockinPrice, "stockin_price"
		}
		if it.UnitPrice, err = money(no, path(field), price); err != nil {
			return o, err
		}
		if d.ActualRefundAmount != "" {
			if it.Total, err = money(no, path("actual_refund_amount"), d.ActualRefundAmount); err != nil {
				return o, err
			}
		} else {
			it.Total = it.UnitPrice * order.Money(it.Quantity)
		}
		lines += it.Total
		o.Items = append(o.Items, it)
	}
	o.Refunded = lines
	if s.ActualRefundAmount != "" {
		if o.Refunded, err = money(no, "actual_refund_amount", s.ActualRefundAmount); err != nil {
			return o, err
		}
	}
	if o.Goods == 0 {
		o.Goods = lines
	}
	o.Total = o.Refunded
	return o, nil
}
