// Package webhook receives orders from any sender that can sign a request:
// the body is orderhub's canonical order JSON, signed with HMAC-SHA256 over
// timestamp + "." + body (the scheme Stripe and Svix use), the timestamp and
// signature sent in headers. With `scheme: standard` the sender signs the
// Standard Webhooks way instead (webhook-id, webhook-timestamp,
// webhook-signature, a whsec_ secret), and the body may be the event
// envelope {"type":"order.paid","timestamp":…,"data":{order}} that another
// orderhub's webhook_out sends, so two orderhubs connect with no code.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/stdwebhook"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// Kind is the system kind of signed-webhook senders.
const Kind = "webhook"

// Header names of the signing scheme.
const (
	HeaderTimestamp = "X-Orderhub-Timestamp" // Unix seconds
	HeaderSignature = "X-Orderhub-Signature" // v1=<hex HMAC-SHA256>[,v1=<hex>…]
)

// The signing schemes a webhook source takes (`scheme:`).
const (
	// SchemeOrderhub is orderhub's own: X-Orderhub-Timestamp and
	// X-Orderhub-Signature: v1=<hex>, keyed with the secret as written.
	SchemeOrderhub = "orderhub"
	// SchemeStandard is Standard Webhooks: webhook-id, webhook-timestamp and
	// webhook-signature: v1,<base64>, keyed with the whsec_ secret's bytes.
	SchemeStandard = "standard"
)

// Settings are a webhook sender's credentials.
type Settings struct {
	Secret config.Secret `yaml:"secret" required:"true" doc:"HMAC-SHA256 key shared with the sender; with scheme standard written whsec_<base64>, as Standard Webhooks senders show it; use ${ENV_VAR}"`
	// PreviousSecret keeps a rotated-out key valid while senders move over.
	PreviousSecret config.Secret `yaml:"previous_secret" doc:"the key being rotated out, still accepted until removed"`
	Scheme         string        `yaml:"scheme" enum:"orderhub,standard" doc:"how the sender signs: orderhub (default; X-Orderhub-Timestamp, X-Orderhub-Signature: v1=<hex>) or standard (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature: v1,<base64>, as another orderhub's webhook_out or any Standard Webhooks library sends)"`
}

// Validate implements config.SettingsValidator. Its messages never quote
// a secret.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	for _, f := range []struct {
		key string
		v   config.Secret
	}{{"secret", s.Secret}, {"previous_secret", s.PreviousSecret}} {
		v := f.v.Reveal()
		switch {
		case v == "":
		case s.Scheme == SchemeStandard:
			if _, err := stdwebhook.ParseSecret(v); err != nil {
				out = append(out, config.FieldProblem{Key: f.key, Msg: "scheme standard: " + err.Error(), Hint: stdwebhook.SecretHint})
			}
		case f.key == "secret" && len(v) < 16:
			out = append(out, config.FieldProblem{Key: f.key, Msg: f.key + " is shorter than 16 characters", Hint: "use a random value of at least 16 characters, e.g. openssl rand -hex 32"})
		}
	}
	return out
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "any sender that POSTs canonical order JSON signed with HMAC-SHA256",
			NewSettings: func() any { return new(Settings) },
		},
		Push: func(env connector.PushEnv) (connector.PushReceiver, error) {
			s, ok := env.System.Settings.(*Settings)
			if !ok || s.Secret.Reveal() == "" {
				return nil, fmt.Errorf("webhook system needs secret")
			}
			secrets := []string{s.Secret.Reveal()}
			if p := s.PreviousSecret.Reveal(); p != "" {
				secrets = append(secrets, p)
			}
			w := env.ReplayWindow
			if w <= 0 {
				w = 5 * time.Minute
			}
			if s.Scheme == SchemeStandard {
				return NewStandardReceiver(w, secrets...)
			}
			return NewReceiver(w, secrets...), nil
		},
	})
}

// Receiver verifies and parses one sender's pushes.
type Receiver struct {
	keys     [][]byte
	window   time.Duration
	standard bool
}

// NewStandardReceiver returns a receiver of Standard Webhooks pushes signed
// by any of secrets (whsec_…) within window of now.
func NewStandardReceiver(window time.Duration, secrets ...string) (*Receiver, error) {
	r := &Receiver{window: window, standard: true}
	for _, s := range secrets {
		k, err := stdwebhook.ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("webhook: scheme standard: %w", err)
		}
		r.keys = append(r.keys, k)
	}
	return r, nil
}

// NewReceiver returns a receiver accepting signatures by any of secrets within
// window of now.
func NewReceiver(window time.Duration, secrets ...string) *Receiver {
	r := &Receiver{window: window}
	for _, s := range secrets {
		r.keys = append(r.keys, []byte(s))
	}
	return r
}

// Sign returns the header values for body signed with secret at t; senders
// (and tests) use it.
func Sign(secret string, t time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return timestamp, "v1=" + hex.EncodeToString(mac([]byte(secret), timestamp, body))
}

func mac(key []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Receive implements connector.PushReceiver. The signature covers the raw
// body, so it is checked before the body is parsed.
func (r *Receiver) Receive(req *connector.PushRequest) (*connector.Pushed, error) {
	if r.standard {
		return r.receiveStandard(req)
	}
	if err := r.verify(req); err != nil {
		// A body that is not an order object (null, [ ], {"data": {…}})
		// gets the same answer from every source, signed or not; but a
		// Standard Webhooks push (its envelope has none of the order's
		// names) is better told of scheme: standard.
		if req.Header.Get(stdwebhook.HeaderSignature) != "" && req.Header.Get(HeaderSignature) == "" {
			return nil, err
		}
		if p := connector.CheckShape(req.Body, isOrderName); p != nil {
			return nil, p
		}
		return nil, err
	}
	o, err := Decode(req.Body)
	if err != nil {
		return nil, err
	}
	return &connector.Pushed{Order: o, Raw: req.Body, Warnings: CheckTotals(&o)}, nil
}

func (r *Receiver) verify(req *connector.PushRequest) *problem.Problem {
	ts := req.Header.Get(HeaderTimestamp)
	sig := req.Header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		detail := fmt.Sprintf("send %s: <unix seconds> and %s: v1=<hex HMAC-SHA256 of timestamp + \".\" + body>", HeaderTimestamp, HeaderSignature)
		if req.Header.Get(stdwebhook.HeaderSignature) != "" {
			detail = "the request is signed the Standard Webhooks way (webhook-signature); set scheme: standard on the source's system to take it"
		}
		return problem.New(http.StatusUnauthorized, "missing_signature",
			fmt.Sprintf("the request has no %s or %s header", HeaderTimestamp, HeaderSignature), detail)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return problem.New(http.StatusUnauthorized, "bad_timestamp", fmt.Sprintf("%s %q is not Unix seconds", HeaderTimestamp, ts), "send the signing time as whole seconds since 1970")
	}
	if age := req.Now.Sub(time.Unix(sec, 0)); age > r.window || age < -r.window {
		return problem.New(http.StatusUnauthorized, "stale_timestamp",
			fmt.Sprintf("%s is %s away from the server's clock, more than the %s allowed", HeaderTimestamp, age.Round(time.Second).Abs(), r.window),
			"sign each request when sending it, and keep the sender's clock in sync (NTP)")
	}
	for _, part := range strings.Split(sig, ",") {
		v, hexSig, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v != "v1" {
			continue
		}
		got, err := hex.DecodeString(hexSig)
		if err != nil {
			continue
		}
		for _, k := range r.keys {
			if hmac.Equal(got, mac(k, ts, req.Body)) {
				return nil
			}
		}
	}
	return problem.New(http.StatusUnauthorized, "bad_signature", "the signature does not match the body",
		"sign timestamp + \".\" + the exact body bytes with HMAC-SHA256 and the shared secret, hex-encoded after v1=")
}

// Decode reads a canonical order document strictly: names are matched
// exactly and may not repeat, and unknown fields are refused, so a misspelt
// field is found on the first push, not in a report.
func Decode(body []byte) (order.Order, error) {
	var o order.Order
	if p := connector.Decode(body, &o, json.RejectUnknownMembers(true)); p != nil {
		if p.Code == "unknown_field" {
			if shape := connector.CheckShape(body, isOrderName); shape != nil {
				return o, shape
			}
		}
		return o, p
	}
	if o.Source != "" {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", "source is set by orderhub from the push URL", "leave source out of the body")
		p.Field = "source"
		return o, p
	}
	if o.OrderNo == "" && o.Status == "" && o.CreatedAt.IsZero() {
		if p := connector.CheckShape(body, isOrderName); p != nil {
			return o, p // {} and the like: nothing of an order in it
		}
	}
	if p := checkOrder(&o, ""); p != nil {
		return o, p
	}
	return o, nil
}

// checkOrder checks a decoded order's values; at prefixes the fields it
// names ("data." inside an event envelope). It defaults the currency.
func checkOrder(o *order.Order, at string) *problem.Problem {
	if p := connector.CheckOrderNo(at+"order_no", o.OrderNo); p != nil {
		return p
	}
	for _, req := range []struct {
		field string
		empty bool
		what  string
	}{
		{"status", o.Status == "", "one of created, paid, shipped, completed, cancelled, refunded"},
		{"created_at", o.CreatedAt.IsZero(), "when the order was placed, RFC 3339 like 2026-11-25T10:00:00+08:00"},
	} {
		if req.empty {
			p := problem.New(http.StatusUnprocessableEntity, "missing_field", "required field "+at+req.field+" is missing or empty", "send "+req.field+": "+req.what)
			p.Field = at + req.field
			return p
		}
	}
	if !o.Status.Valid() {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("%sstatus %s is not a known status", at, connector.Quote(string(o.Status))), "use one of created, paid, shipped, completed, cancelled, refunded")
		p.Field = at + "status"
		return p
	}
	for _, f := range timeFields(o) {
		// Years 1..9998 (UTC) can be written in every zone the order may be
		// shown in; JSON cannot carry a year outside 0..9999.
		if y := f.t.UTC().Year(); !f.t.IsZero() && (y < 1 || y > 9998) {
			p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("%s%s %s is not a plausible time", at, f.name, f.t.Format(time.RFC3339)), "send the real time, RFC 3339 like 2026-11-25T10:00:00+08:00")
			p.Field = at + f.name
			return p
		}
	}
	if p := checkAmounts(o); p != nil {
		if at != "" {
			p.Title = at + p.Title
			p.Field = at + p.Field
		}
		return p
	}
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	return nil
}

// orderNames are the canonical order's top-level names.
var orderNames = func() map[string]bool {
	names := map[string]bool{}
	for f := range reflect.TypeFor[order.Order]().Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}()

func isOrderName(name string) bool { return orderNames[name] }

// checkAmounts refuses negative money and quantities that are not positive.
func checkAmounts(o *order.Order) *problem.Problem {
	negative := func(field string, m order.Money) *problem.Problem {
		if m >= 0 {
			return nil
		}
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("%s is negative: %s", field, m),
			"amounts are never negative: send money returned as refunded and price reductions as discount")
		p.Field = field
		return p
	}
	for _, f := range []struct {
		name string
		m    order.Money
	}{{"total", o.Total}, {"goods_amount", o.Goods}, {"freight", o.Freight}, {"discount", o.Discount}, {"refunded", o.Refunded}} {
		if p := negative(f.name, f.m); p != nil {
			return p
		}
	}
	for i, it := range o.Items {
		if it.Quantity <= 0 {
			p := problem.New(http.StatusUnprocessableEntity, "invalid_field", fmt.Sprintf("items[%d].quantity must be a positive quantity, got %d", i, it.Quantity), "send how many units the line has")
			p.Field = fmt.Sprintf("items[%d].quantity", i)
			return p
		}
		if p := negative(fmt.Sprintf("items[%d].unit_price", i), it.UnitPrice); p != nil {
			return p
		}
		if p := negative(fmt.Sprintf("items[%d].total", i), it.Total); p != nil {
			return p
		}
	}
	return nil
}

// CheckTotals compares goods_amount with the sum of the lines' totals, when
// the document has both. Senders round each line, so up to one fen a line
// is rounding; beyond it the order is accepted as sent, with a warning.
func CheckTotals(o *order.Order) []order.Warning {
	if o.Goods == 0 || len(o.Items) == 0 {
		return nil
	}
	var sum order.Money
	for _, it := range o.Items {
		sum += it.Total
	}
	if diff := o.Goods - sum; diff > order.Money(len(o.Items)) || -diff > order.Money(len(o.Items)) {
		return []order.Warning{{Code: order.WarnTotalsMismatch, Field: "goods_amount",
			Message: fmt.Sprintf("goods_amount %s differs from the sum of the items' total, %s, by %s", o.Goods, sum, diff)}}
	}
	return nil
}

type timeField struct {
	name string
	t    time.Time
}

func timeFields(o *order.Order) []timeField {
	return []timeField{{"created_at", o.CreatedAt}, {"paid_at", o.PaidAt}, {"shipped_at", o.ShippedAt},
		{"completed_at", o.CompletedAt}, {"cancelled_at", o.CancelledAt}, {"updated_at", o.UpdatedAt}}
}
