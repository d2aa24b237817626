// Package mall connects shops built on the mall system of seed 004, which push
// every order change as one JSON document carrying a shared app_sign value.
package mall

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// Kind is the system kind of these shops.
const Kind = "mall"

// Settings are a mall system's credentials.
type Settings struct {
	// AppKey is the key the shop was given for orderhub; kept for the console
	// and logs, the push itself does not carry it.
	AppKey string `yaml:"app_key" doc:"the AppKey entered in the shop's third-party ERP settings"`
	// AppSign is the shared value the shop puts in every pushed document. The
	// mall does not publish how it is derived, so it is compared as configured.
	AppSign config.Secret `yaml:"app_sign" required:"true" doc:"the app_sign value the shop sends in every order; use ${ENV_VAR}"`
}

// Validate implements config.SettingsValidator.
func (s *Settings) Validate() []config.FieldProblem {
	if v := s.AppSign.Reveal(); v != "" && len(v) < 8 {
		return []config.FieldProblem{{Key: "app_sign", Msg: "app_sign is shorter than 8 characters", Hint: "copy the whole app_sign value from the shop's settings"}}
	}
	return nil
}

func init() {
	config.RegisterKind(config.KindSpec{
		Kind:        Kind,
		Summary:     "a shop on the mall system that pushes order JSON with app_sign (seed 004)",
		NewSettings: func() any { return new(Settings) },
		Push:        true,
	})
	connector.RegisterPush(Kind, func(env connector.PushEnv) (connector.PushReceiver, error) {
		s, ok := env.System.Settings.(*Settings)
		if !ok || s.AppSign.Reveal() == "" {
			return nil, fmt.Errorf("mall system needs app_sign")
		}
		loc := env.Location
		if loc == nil {
			loc = time.UTC
		}
		return &Receiver{sign: []byte(s.AppSign.Reveal()), loc: loc}, nil
	})
}

// Receiver verifies and parses one mall's pushes.
type Receiver struct {
	sign []byte
	loc  *time.Location
}

// NewReceiver returns a receiver for a mall whose documents carry appSign and
// whose times are written in loc.
func NewReceiver(appSign string, loc *time.Location) *Receiver {
	return &Receiver{sign: []byte(appSign), loc: loc}
}

var redactedSign = []byte("[redacted]")

// Receive implements connector.PushReceiver. The signature travels inside the
// body, so the body is parsed first; nothing is trusted until app_sign matches.
func (r *Receiver) Receive(req *connector.PushRequest) (*connector.Pushed, error) {
	doc, err := decode(req.Body)
	if err != nil {
		return nil, err
	}
	if doc.AppSign == "" {
		// {} or an order wrapped in an envelope is the same mistake as null.
		if p := connector.CheckShape(req.Body, func(name string) bool { return topNames[name] }); p != nil {
			return nil, p
		}
		p := problem.New(http.StatusUnauthorized, "missing_signature", "the order has no app_sign", "the shop must send the app_sign configured for this system")
		p.Field = "app_sign"
		return nil, p
	}
	if subtle.ConstantTimeCompare([]byte(doc.AppSign), r.sign) != 1 {
		p := problem.New(http.StatusUnauthorized, "bad_signature", "app_sign does not match this system's", "check that the shop and orderhub are configured with the same app_sign")
		p.Field = "app_sign"
		return nil, p
	}
	o, warnings, err := normalize(doc, r.loc)
	if err != nil {
		return nil, err
	}
	// The shared value is a credential: it must not be stored with the order.
	var raw []byte
	if bytes.Contains(req.Body, r.sign) {
		raw = bytes.ReplaceAll(req.Body, r.sign, redactedSign)
	} else {
		// app_sign matched but its bytes are nowhere in the body: the sender
		// escaped characters of it (PHP writes / as \/), so a replacement
		// would miss it. Keep a re-encoding of the document instead.
		full, err := decodeFull(req.Body)
		if err != nil {
			return nil, err
		}
		full.AppSign = string(redactedSign)
		raw = bytes.ReplaceAll(encode(full), r.sign, redactedSign)
	}
	return &connector.Pushed{Order: o, Raw: raw, Warnings: warnings}, nil
}

// encode writes d without escaping HTML characters, so that every string in
// it is written as its own bytes.
func encode(d *Order) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		panic(fmt.Sprintf("mall: encoding a decoded order: %v", err)) // only plain types: cannot fail
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// decode reads the fields of a mall document that the hub uses, with
// errors a sender can act on. The document is kept whole as the raw
// payload; decoding the rest (goods snapshots, distributor, pictures) would
// only cost time, so their types are not checked here, but the whole body
// is checked as JSON: names are matched exactly and none may repeat.
func decode(body []byte) (*inbound, error) {
	var doc inbound
	if p := connector.Decode(body, &doc); p != nil {
		return nil, p
	}
	if p := caseClash("", doc.Unknown, topNames); p != nil {
		return nil, p
	}
	for i := range doc.Detail {
		if p := caseClash(fmt.Sprintf("detail[%d].", i), doc.Detail[i].Unknown, lineNames); p != nil {
			return nil, p
		}
	}
	return &doc, nil
}

// Documented names, to tell a field the mall does not document (kept, not
// read) from a documented one written in another case, which is refused:
// encoding/json v1 would have read "CreAted_At" as created_at, and two
// readers of one document must not see different orders.
var (
	topNames  = jsonNames(reflect.TypeFor[Order]())
	lineNames = jsonNames(reflect.TypeFor[Detail]())
)

func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

func caseClash(prefix string, unknown map[string]skipped, known map[string]bool) *problem.Problem {
	if len(unknown) == 0 {
		return nil
	}
	// Sorted, so that the same body always gets the same answer.
	for _, name := range slices.Sorted(maps.Keys(unknown)) {
		if low := strings.ToLower(name); known[low] {
			p := problem.New(http.StatusUnprocessableEntity, "unknown_field",
				fmt.Sprintf("field %s%s is not a mall field: names are matched exactly, and this one differs from %q only in case", prefix, connector.Quote(name), low),
				fmt.Sprintf("write it as %q, once", low))
			p.Field = prefix + connector.Clip(name, 64)
			return p
		}
	}
	return nil
}

// decodeFull reads every documented field.
func decodeFull(body []byte) (*Order, error) {
	var doc Order
	if p := connector.Decode(body, &doc); p != nil {
		return nil, p
	}
	return &doc, nil
}

// normalize turns a mall document into the canonical order.
func normalize(d *inbound, loc *time.Location) (order.Order, []order.Warning, error) {
	o, err := normalizeOrder(d, loc)
	if err != nil {
		return o, nil, err
	}
	return o, checkTotals(d, &o), nil
}

// checkTotals compares the document's goods total with the sum of its
// lines. Senders round each line, so a difference of up to one fen a line
// is taken as rounding; beyond that the order is kept as sent, with a
// warning for a person to look at.
func checkTotals(d *inbound, o *order.Order) []order.Warning {
	if d.TotalGoodsPrice == nil || *d.TotalGoodsPrice == "" || len(o.Items) == 0 {
		return nil
	}
	var sum order.Money
	for _, it := range o.Items {
		sum += it.Total
	}
	if diff := o.Goods - sum; diff > order.Money(len(o.Items)) || -diff > order.Money(len(o.Items)) {
		return []order.Warning{{Code: order.WarnTotalsMismatch, Field: "total_goods_price",
			Message: fmt.Sprintf("total_goods_price %s differs from the sum of the lines' total_price, %s, by %s", o.Goods, sum, diff)}}
	}
	return nil
}

func normalizeOrder(d *inbound, loc *time.Location) (order.Order, error) {
	var o order.Order
	if p := connector.CheckOrderNo("order_no", d.OrderNo); p != nil {
		return o, p
	}
	o.OrderNo = d.OrderNo
	o.Currency = "CNY"
	var err error
	if o.Total, err = money("total_pay_price", d.TotalPayPrice, true); err != nil {
		return o, err
	}
	if o.Goods, err = money("total_goods_price", d.TotalGoodsPrice, false); err != nil {
		return o, err
	}
	if o.Freight, err = money("express_price", d.ExpressPrice, false); err != nil {
		return o, err
	}
	var discount order.Money
	for _, f := range []struct {
		name string
		v    *string
	}{{"member_discount_price", d.MemberDiscountPrice}, {"coupon_discount_price", d.CouponDiscountPrice}, {"integral_deduction_price", d.IntegralDeductionPrice}} {
		m, err := money(f.name, f.v, false)
		if err != nil {
			return o, err
		}
		discount += m
	}
	o.Discount = discount
	if o.Refunded, err = money("back_price", d.BackPrice, false); err != nil {
		return o, err
	}
	o.Buyer = order.Buyer{Name: d.Name, Phone: d.Mobile, Address: d.Address}
	if d.UserID != 0 {
		o.Buyer.ID = fmt.Sprint(d.UserID)
	}
	o.Remark = d.Remark
	o.Shipping = order.Shipping{Company: d.Express, TrackingNo: d.ExpressNo}

	if strings.TrimSpace(d.CreatedAt) == "" {
		return o, missing("created_at", "when the order was placed, like 2025-03-20 16:58:09")
	}
	times := []struct {
		name string
		in   string
		out  *time.Time
	}{
		{"created_at", d.CreatedAt, &o.CreatedAt},
		{"updated_at", d.UpdatedAt, &o.UpdatedAt},
		{"pay_time", d.PayTime, &o.PaidAt},
		{"send_time", d.SendTime, &o.ShippedAt},
		{"confirm_time", d.ConfirmTime, &o.CompletedAt},
		{"cancel_time", d.CancelTime, &o.CancelledAt},
	}
	for _, t := range times {
		if *t.out, err = parseTime(t.name, t.in, loc); err != nil {
			return o, err
		}
	}

	o.Items = make([]order.Item, 0, len(d.Detail))
	for i := range d.Detail {
		it, err := item(i, &d.Detail[i])
		if err != nil {
			return o, err
		}
		o.Items = append(o.Items, it)
	}
	if o.CreatedAt.IsZero() {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("created_at %s is the mall's \"never\" date", connector.Quote(d.CreatedAt)),
			"send when the order was placed, like 2025-03-20 16:58:09")
		p.Field = "created_at"
		return o, p
	}
	o.Status = status(d, o.Refunded)
	return o, nil
}

// status reads the mall's flags. A cancellation wins over everything, money
// returned over delivery, and delivery steps over one another.
func status(d *inbound, refunded order.Money) order.Status {
	switch {
	case d.CancelStatus == 1:
		return order.StatusCancelled
	case refunded > 0:
		return order.StatusRefunded
	case d.IsConfirm == 1:
		return order.StatusCompleted
	case d.IsSend == 1:
		return order.StatusShipped
	case d.IsPay == 1:
		return order.StatusPaid
	default:
		return order.StatusCreated
	}
}

func item(i int, d *inboundLine) (order.Item, error) {
	path := func(f string) string { return fmt.Sprintf("detail[%d].%s", i, f) }
	var it order.Item
	var err error
	if d.Num <= 0 {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("%s must be a positive quantity, got %d", path("num"), d.Num), "send how many units the line has")
		p.Field = path("num")
		return it, p
	}
	it.Quantity = d.Num
	if it.UnitPrice, err = money(path("unit_price"), d.UnitPrice, true); err != nil {
		return it, err
	}
	if it.Total, err = money(path("total_price"), d.TotalPrice, true); err != nil {
		return it, err
	}
	it.SKU = d.GoodsNo
	attrs := d.AttrList
	if gi := d.GoodsInfo; gi != nil {
		if ga := gi.GoodsAttr; ga != nil {
			it.Name = ga.Name
			if it.SKU == "" {
				it.SKU = ga.No
			}
		}
		if len(attrs) == 0 {
			attrs = gi.AttrList
		}
	}
	if it.SKU == "" {
		it.SKU = fmt.Sprint(d.GoodsID)
	}
	if len(attrs) > 0 {
		parts := make([]string, len(attrs))
		for j, a := range attrs {
			parts[j] = a.AttrGroupName + ":" + a.AttrName
		}
		it.Spec = strings.Join(parts, ";")
	}
	return it, nil
}

func money(field string, v *string, required bool) (order.Money, error) {
	if v == nil || *v == "" {
		if required {
			return 0, missing(field, "a decimal amount such as \"3.00\"")
		}
		return 0, nil
	}
	m, err := order.ParseMoney(*v)
	if err != nil {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("%s: %v", field, err), "write amounts as decimal strings with at most 2 decimals, like \"3.00\"")
		p.Field = field
		return 0, p
	}
	if m < 0 {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("%s is negative: %s", field, m),
			"amounts are never negative: send money returned as back_price and discounts in their own fields")
		p.Field = field
		return 0, p
	}
	return m, nil
}

const mallTime = "2006-01-02 15:04:05"

// parseTime reads the mall's local times; its zero date means "never".
func parseTime(field, s string, loc *time.Location) (time.Time, error) {
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(mallTime, s, loc)
	if err != nil {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("%s: %s is not a time", field, connector.Quote(s)), "write times as 2006-01-02 15:04:05")
		p.Field = field
		return time.Time{}, p
	}
	return t, nil
}

func missing(field, what string) *problem.Problem {
	p := problem.New(http.StatusUnprocessableEntity, "missing_field", "required field "+field+" is missing or empty", "send "+field+": "+what)
	p.Field = field
	return p
}
