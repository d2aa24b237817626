package notify

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/order"
)

// Languages a template may be written in; the first is the default.
var Languages = []string{"zh-CN", "en"}

// Data is what a template sees: {{.Order.No}}, {{yuan .Order.Total}},
// {{.Link}}, {{.Brand.Signature}}. Buyer data is masked: a group chat is no
// place for a customer's phone number.
type Data struct {
	Rule  string
	Order OrderData
	Event EventData
	// Link points at the order's page in the console.
	Link  string
	Brand config.Branding
}

// OrderData is the order as a template shows it.
type OrderData struct {
	No     string
	Source string
	// Shop is the system the order came from (the source's system).
	Shop string
	// Total and the other amounts are decimal strings ("5999.00"); yuan
	// formats them as ¥5,999.00.
	Total    string
	Goods    string
	Freight  string
	Discount string
	Refunded string
	Currency string
	// Status is the status in the template's language (已付款); StatusCode
	// is the canonical value (paid).
	Status     string
	StatusCode string
	// Buyer is the buyer's phone, masked (138****1234); BuyerName the
	// name, masked (张**).
	Buyer     string
	BuyerName string
	Items     []ItemData
	Remark    string
	Company   string // shipping company
	Tracking  string // tracking number
	CreatedAt string // yyyy-MM-dd HH:mm:ss in the configured zone
}

// ItemData is one order line.
type ItemData struct {
	SKU, Name, Spec  string
	Quantity         int64
	UnitPrice, Total string
}

// EventData is the event as a template shows it.
type EventData struct {
	Type  string // created, paid, …
	Label string // in the template's language: 新订单, 已付款, …
	From  string // the status before, in the template's language
	To    string
}

var statusLabels = map[string]map[order.Status]string{
	"zh-CN": {order.StatusCreated: "待付款", order.StatusPaid: "已付款", order.StatusShipped: "已发货",
		order.StatusCompleted: "已完成", order.StatusCancelled: "已取消", order.StatusRefunded: "已退款"},
	"en": {order.StatusCreated: "awaiting payment", order.StatusPaid: "paid", order.StatusShipped: "shipped",
		order.StatusCompleted: "completed", order.StatusCancelled: "cancelled", order.StatusRefunded: "refunded"},
}

var eventLabels = map[string]map[order.EventType]string{
	"zh-CN": {order.EventCreated: "新订单", order.EventPaid: "已付款", order.EventShipped: "已发货",
		order.EventCompleted: "已完成", order.EventCancelled: "已取消", order.EventRefunded: "已退款", order.EventChanged: "订单变更"},
	"en": {order.EventCreated: "new order", order.EventPaid: "paid", order.EventShipped: "shipped",
		order.EventCompleted: "completed", order.EventCancelled: "cancelled", order.EventRefunded: "refunded", order.EventChanged: "changed"},
}

func label[K comparable](labels map[string]map[K]string, lang string, k K) string {
	if l, ok := labels[lang][k]; ok {
		return l
	}
	return fmt.Sprint(k)
}

// newData fills Data for one order and event in lang.
func newData(rule string, o order.Order, ev Event, lang string, shop, link string, brand config.Branding, loc *time.Location) Data {
	d := Data{Rule: rule, Link: link, Brand: brand,
		Event: EventData{Type: string(ev.Type), Label: label(eventLabels, lang, ev.Type)},
		Order: OrderData{
			No: o.OrderNo, Source: o.Source, Shop: shop,
			Total: o.Total.String(), Goods: o.Goods.String(), Freight: o.Freight.String(),
			Discount: o.Discount.String(), Refunded: o.Refunded.String(), Currency: o.Currency,
			Status: label(statusLabels, lang, o.Status), StatusCode: string(o.Status),
			Buyer: order.MaskPhone(o.Buyer.Phone), BuyerName: order.MaskName(o.Buyer.Name),
			Remark: o.Remark, Company: o.Shipping.Company, Tracking: o.Shipping.TrackingNo,
		}}
	if ev.From != "" {
		d.Event.From = label(statusLabels, lang, ev.From)
	}
	if ev.To != "" {
		d.Event.To = label(statusLabels, lang, ev.To)
	}
	if !o.CreatedAt.IsZero() {
		t := o.CreatedAt
		if loc != nil {
			t = t.In(loc)
		}
		d.Order.CreatedAt = t.Format(time.DateTime)
	}
	for _, it := range o.Items {
		d.Order.Items = append(d.Order.Items, ItemData{SKU: it.SKU, Name: it.Name, Spec: it.Spec, Quantity: it.Quantity,
			UnitPrice: it.UnitPrice.String(), Total: it.Total.String()})
	}
	return d
}

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	// yuan formats a decimal amount as ¥5,999.00.
	"yuan": Yuan,
}

// Yuan formats a decimal amount ("5999", "5999.5", "-12.30") as ¥5,999.00;
// text that is not an amount is an error, so a template that passes it
// something else fails at check time.
func Yuan(amount string) (string, error) {
	m, err := order.ParseMoney(amount)
	if err != nil {
		return "", fmt.Errorf("yuan: %w", err)
	}
	s := m.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + "¥" + b.String() + "." + frac, nil
}

// text is one compiled language of a template.
type text struct {
	title, markdown *template.Template
}

// compileText parses a title and a body and runs them once against a fully
// populated order and once against a bare one, so that a variable that does
// not exist (or a branch that reads one) is an error now, at the place it
// was written, and not at the first order.
func compileText(name, lang string, t config.TemplateText) (*text, []error) {
	var errs []error
	parse := func(part, src string, pos config.Position) *template.Template {
		path := fmt.Sprintf("templates.%s.%s.%s", name, lang, part)
		tp, err := template.New(path).Option("missingkey=error").Funcs(funcs).Parse(src)
		if err != nil {
			errs = append(errs, templateError(err, path, pos))
			return nil
		}
		for _, o := range []order.Order{sampleOrder(), bareOrder()} {
			d := newData("sample", o, sampleEvent(), lang, "shop", "http://127.0.0.1:8080/orders/shop/1", sampleBrand, nil)
			if err := tp.Execute(new(bytes.Buffer), d); err != nil {
				errs = append(errs, templateError(err, path, pos))
				return nil
			}
		}
		return tp
	}
	out := &text{title: parse("title", t.Title, t.TitlePos), markdown: parse("markdown", t.Markdown, t.MarkdownPos)}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// templateLine finds "name:LINE:" or "name:LINE:COL:" in a text/template error.
var templateLine = regexp.MustCompile(`^template: [^:]+:(\d+)(?::(\d+))?: (.*)$`)

// templateError places a text/template error at its line in the config
// file and says which names exist when it is about one that does not.
func templateError(err error, path string, pos config.Position) error {
	msg := err.Error()
	p := pos
	if m := templateLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if line > 1 {
			p.Line += line - 1
			p.Column = 0
		}
		msg = m[3]
	}
	msg = strings.TrimPrefix(msg, `executing "`+path+`" `) // the path is said already
	hint := ""
	if strings.Contains(msg, "can't evaluate field") || strings.Contains(msg, "map has no entry") {
		hint = "templates read .Order (No, Source, Shop, Total, Goods, Freight, Discount, Refunded, Currency, Status, StatusCode, Buyer, BuyerName, Items, Remark, Company, Tracking, CreatedAt), .Event (Type, Label, From, To), .Link, .Brand (Name, Signature, Color) and .Rule; amounts format with yuan, e.g. {{yuan .Order.Total}}"
	}
	return &config.Error{Pos: p, Path: path, Msg: msg, Hint: hint}
}

// shippedFS holds the shipped templates: shipped/<name>.<lang>.md, whose
// first line is the title and the rest, after a blank line, the body.
//
//go:embed shipped/*.md
var shippedFS embed.FS

// ShippedNames are the templates orderhub ships, for the seeds' cases.
var ShippedNames = []string{"new_order", "paid", "shipped", "big_order", "refund", "cancelled"}

func init() {
	config.RegisterTemplates(ShippedNames...)
}

// shippedTemplate returns a shipped template as if it were configured, its
// positions naming the embedded file.
func shippedTemplate(name string) (*config.Template, bool) {
	t := &config.Template{Name: name}
	for _, lang := range Languages {
		file := "shipped/" + name + "." + lang + ".md"
		b, err := shippedFS.ReadFile(file)
		if err != nil {
			continue
		}
		title, body, _ := strings.Cut(string(b), "\n")
		tt := &config.TemplateText{Title: title, Markdown: strings.TrimPrefix(body, "\n"),
			TitlePos: config.Position{File: file, Line: 1}, MarkdownPos: config.Position{File: file, Line: 3}}
		if lang == "en" {
			t.En = tt
		} else {
			t.ZhCN = tt
		}
	}
	return t, t.ZhCN != nil || t.En != nil
}

var sampleBrand = config.Branding{Name: "示例店铺", Signature: "— orderhub", Color: "#1677FF"}

// sampleOrder is an order with every field set, for compile-time dry runs.
func sampleOrder() order.Order {
	t := time.Date(2026, 1, 2, 10, 30, 0, 0, time.FixedZone("CST", 8*3600))
	return order.Order{Source: "shop", OrderNo: "SO-1", Status: order.StatusPaid, Currency: "CNY",
		Total: 599900, Goods: 599000, Freight: 1000, Discount: 100, Refunded: 100,
		Buyer:    order.Buyer{ID: "u1", Name: "张三", Phone: "13812341234", Address: "浙江省杭州市西湖区文三路 1 号"},
		Items:    []order.Item{{SKU: "SKU-1", Name: "羽绒服", Spec: "颜色:黑色", Quantity: 1, UnitPrice: 599000, Total: 599000}},
		Shipping: order.Shipping{Company: "顺丰", TrackingNo: "SF1"}, Remark: "尽快发货",
		CreatedAt: t, PaidAt: t, ShippedAt: t, CompletedAt: t, CancelledAt: t, UpdatedAt: t}
}

// bareOrder has only what every order has, so that the other side of each
// {{if}} runs in the dry run too.
func bareOrder() order.Order {
	return order.Order{Source: "shop", OrderNo: "SO-2", Status: order.StatusCreated, Currency: "CNY"}
}

func sampleEvent() Event {
	return Event{Type: order.EventPaid, From: order.StatusCreated, To: order.StatusPaid}
}
