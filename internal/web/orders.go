package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"orderhub/internal/console"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// ordersQuery is the search form as submitted, shown back in it.
type ordersQuery struct {
	No, Phone, Status, Source, From, To string
}

type ordersData struct {
	Q        ordersQuery
	Statuses []string
	Sources  []string
	Rows     []store.Record
	Next     template.URL // the next (older) page, built from url.Values
	Bad      string       // why the form's values were refused
}

var statuses = []order.Status{order.StatusCreated, order.StatusPaid, order.StatusShipped, order.StatusCompleted, order.StatusCancelled, order.StatusRefunded}

// formTimes are how <input type="datetime-local"> sends a time (with
// seconds when its step asks for them), or a date typed by hand; all in
// the configured zone.
var formTimes = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

func parseFormTime(s string, loc *time.Location) (time.Time, error) {
	var err error
	for _, layout := range formTimes {
		var t time.Time
		if t, err = time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// digitsOnly keeps the digits of a phone as typed (138 0013 8000,
// 138-0013-8000), so it matches the phone stored whole.
func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || r == '+' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (c *pages) orders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fq := ordersQuery{No: strings.TrimSpace(q.Get("no")), Phone: strings.TrimSpace(q.Get("phone")), Status: q.Get("status"),
		Source: strings.TrimSpace(q.Get("source")), From: q.Get("from"), To: q.Get("to")}
	d := &ordersData{Q: fq}
	for _, s := range statuses {
		d.Statuses = append(d.Statuses, string(s))
	}
	v := c.newView(r, "orders", "orders.title", d)
	f := store.SearchFilter{OrderNo: fq.No, Phone: digitsOnly(fq.Phone), Source: fq.Source, Status: order.Status(fq.Status), Before: q.Get("before"), Limit: 50}
	if f.Status != "" && !f.Status.Valid() {
		d.Bad = v.Tf("orders.bad_status", fq.Status)
	}
	for _, t := range []struct {
		in  string
		out *time.Time
	}{{fq.From, &f.From}, {fq.To, &f.To}} {
		if t.in == "" {
			continue
		}
		at, err := parseFormTime(t.in, c.Location)
		if err != nil {
			d.Bad = v.Tf("orders.bad_time", t.in)
			continue
		}
		*t.out = at
	}
	if fq.Phone != "" && f.Phone == "" {
		d.Bad = v.Tf("orders.bad_phone", fq.Phone)
	}
	if d.Bad != "" {
		c.render(w, http.StatusBadRequest, "orders", v)
		return
	}
	page, err := c.Store.SearchOrders(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		d.Bad = v.T("orders.bad_cursor")
		c.render(w, http.StatusBadRequest, "orders", v)
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	vw, _ := viewer(r)
	for _, rec := range page.Records {
		if !vw.PII {
			rec.Order = rec.Order.Masked()
		}
		d.Rows = append(d.Rows, rec)
	}
	if page.More {
		next := url.Values{}
		for k, val := range map[string]string{"no": fq.No, "phone": fq.Phone, "status": fq.Status, "source": fq.Source, "from": fq.From, "to": fq.To} {
			if val != "" {
				next.Set(k, val)
			}
		}
		next.Set("before", page.NextBefore)
		d.Next = template.URL("/orders?" + next.Encode())
	}
	states, err := c.Store.PullStates(r.Context())
	if err != nil {
		c.internal(w, r, err)
		return
	}
	for _, s := range states {
		d.Sources = append(d.Sources, s.Source)
	}
	c.render(w, http.StatusOK, "orders", v)
}

// orderData is an order's page.
type orderData struct {
	Rec        *store.Record
	Raw        string // the latest payload, PII masked, indented when JSON
	RawVersion int64
	Events     []store.Event
	Steps      []step
	Deliveries []store.Delivery
}

// step is one timeline entry as shown: its stage and the details that
// tell it apart, in a fixed order.
type step struct {
	At       time.Time
	Stage    string
	Fields   []field
	Delivery int64 // the delivery it speaks of, linked
}

type field struct{ Key, Value string }

// stepKeys are the details a step shows, in this order; the rest of a
// step's detail (requests, nested data) is on the pages it links to.
var stepKeys = []string{"result", "version", "events", "flow", "target", "api", "bill_no", "bill_id", "rule", "system",
	"message_id", "state", "read_state", "unread", "class", "code", "message", "hint", "field", "reason", "during", "next"}

func (c *pages) order(w http.ResponseWriter, r *http.Request) {
	source, no := r.PathValue("source"), r.PathValue("order_no")
	rec, err := c.Store.GetOrder(r.Context(), source, no)
	if errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, http.StatusNotFound, "error.no_order", no, source)
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	// A viewer who may see PII (an admin) sees the order as stored; the
	// read is logged, as the API logs its unmasked reads.
	vw, _ := viewer(r)
	pii := piiOf(rec.Order)
	d := &orderData{Rec: rec}
	if vw.PII {
		pii = nil
		c.Log.Info("PII read", "user", vw.Name, "path", r.URL.Path)
	} else {
		d.Rec = &store.Record{ID: rec.ID, Order: rec.Order.Masked(), Version: rec.Version, FirstSeenAt: rec.FirstSeenAt, UpdatedAt: rec.UpdatedAt}
	}
	if d.Events, err = c.Store.Events(r.Context(), rec.ID); err != nil {
		c.internal(w, r, err)
		return
	}
	tl, err := c.Store.Timeline(r.Context(), rec.ID)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	for _, t := range tl {
		d.Steps = append(d.Steps, toStep(t, pii))
	}
	latest, err := c.Store.LatestVersion(r.Context(), rec.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.internal(w, r, err)
		return
	}
	if err == nil {
		d.Raw, d.RawVersion = showRaw(latest.Raw, pii, vw.PII), latest.Version
	}
	ds, err := c.Store.ListDeliveries(r.Context(), store.DeliveryFilter{OrderID: rec.ID, Limit: 100})
	if err != nil {
		c.internal(w, r, err)
		return
	}
	d.Deliveries = ds
	c.render(w, http.StatusOK, "order", c.newView(r, "orders", "order.title", d))
}

func toStep(t store.TimelineEntry, pii []piiValue) step {
	s := step{At: t.At, Stage: t.Stage}
	var detail map[string]any
	if err := json.Unmarshal(t.Detail, &detail); err != nil {
		return s
	}
	if id, ok := detail["delivery"].(float64); ok {
		s.Delivery = int64(id)
	}
	for _, k := range stepKeys {
		val, ok := detail[k]
		if !ok {
			continue
		}
		var text string
		switch x := val.(type) {
		case string:
			text = x
		case float64, bool:
			b, _ := json.Marshal(x)
			text = string(b)
		case []any:
			parts := make([]string, 0, len(x))
			for _, e := range x {
				if str, ok := e.(string); ok {
					parts = append(parts, str)
				}
			}
			text = strings.Join(parts, ", ")
		}
		if text != "" {
			s.Fields = append(s.Fields, field{Key: k, Value: maskText(text, pii)})
		}
	}
	return s
}

// piiValue is one piece of buyer data and how it is shown instead.
type piiValue struct{ clear, masked string }

// piiOf lists the order's buyer data, longest first so that a name inside
// an address is replaced after the address.
func piiOf(o order.Order) []piiValue {
	var out []piiValue
	add := func(clear, masked string) {
		if len([]rune(clear)) >= 2 {
			out = append(out, piiValue{clear, masked})
		}
	}
	add(o.Buyer.Address, order.MaskAddress(o.Buyer.Address))
	add(o.Buyer.Phone, order.MaskPhone(o.Buyer.Phone))
	add(o.Buyer.Name, order.MaskName(o.Buyer.Name))
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].clear) > len(out[j].clear) })
	return out
}

func maskText(s string, pii []piiValue) string {
	for _, p := range pii {
		s = strings.ReplaceAll(s, p.clear, p.masked)
	}
	return s
}

// showRaw is the payload as stored (indented when JSON) for a viewer who
// may see PII, else masked.
func showRaw(raw []byte, pii []piiValue, clear bool) string {
	if !clear {
		return maskRaw(raw, pii)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// maskRaw shows a stored payload with its PII masked: in JSON every value
// under a key that names a phone, a person or an address, and anywhere the
// order's own buyer data (which a source may carry under any key, or in a
// form-encoded body).
func maskRaw(raw []byte, pii []piiValue) string {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return maskText(string(raw), pii)
	}
	doc = maskJSON("", doc, pii)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return maskText(string(raw), pii)
	}
	return strings.TrimRight(b.String(), "\n")
}

func maskJSON(key string, v any, pii []piiValue) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = maskJSON(k, e, pii)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = maskJSON(key, e, pii)
		}
		return x
	case string:
		return maskField(key, maskText(x, pii))
	case json.Number:
		// A phone sent as a number.
		if kind := piiKind(key); kind == "phone" {
			return order.MaskPhone(x.String())
		}
		return x
	}
	return v
}

// piiKind says what a payload key holds, from its name: phone, name,
// address or "" for anything else.
func piiKind(key string) string {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "phone") || strings.Contains(k, "mobile") || k == "tel" || strings.HasSuffix(k, "_tel") || strings.Contains(k, "telephone"):
		return "phone"
	case strings.Contains(k, "address") && !strings.HasSuffix(k, "_id") || k == "addr" || strings.HasSuffix(k, "_addr"):
		return "address"
	case k == "receiver_name" || k == "buyer_name" || k == "customer_name" || k == "consignee" || k == "nickname" ||
		k == "buyer_nick" || k == "contact_name" || k == "real_name" || k == "receiver" || k == "buyer" || strings.Contains(k, "idcard") || strings.Contains(k, "id_card"):
		return "name"
	}
	return ""
}

func maskField(key, s string) string {
	switch piiKind(key) {
	case "phone":
		if strings.Contains(s, "****") {
			return s
		}
		return order.MaskPhone(s)
	case "address":
		if strings.HasSuffix(s, "****") {
			return s
		}
		return order.MaskAddress(s)
	case "name":
		if strings.Contains(s, "*") {
			return s
		}
		return order.MaskName(s)
	}
	return s
}

// maskedMessage is a delivery's message as the REST API shows it to a
// caller that may not see PII.
func maskedMessage(m json.RawMessage, clear bool) string {
	masked := m
	if !clear {
		masked = console.MaskContacts(m)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, masked, "", "  "); err != nil {
		return string(masked)
	}
	return b.String()
}
