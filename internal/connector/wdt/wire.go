package wdt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The documents below are the fields of 旺店通's trade and return stock-in
// answers that the hub reads, plus the ones a realistic simulator sends.
// 旺店通 writes many numbers sometimes as JSON numbers and sometimes as
// strings ("110", "1.0000"), so the scalar types here accept both.

// Trade is one element of trade_query's "trades" (erp.md 1.3).
type Trade struct {
	TradeID        Text        `json:"trade_id"`
	TradeNo        string      `json:"trade_no"`
	PlatformID     Int         `json:"platform_id"`
	ShopNo         string      `json:"shop_no"`
	ShopName       string      `json:"shop_name,omitempty"`
	WarehouseNo    string      `json:"warehouse_no"`
	SrcTids        string      `json:"src_tids"`
	TradeStatus    Int         `json:"trade_status"`
	TradeType      Int         `json:"trade_type"`
	RefundStatus   Int         `json:"refund_status"`
	TradeTime      string      `json:"trade_time"`
	PayTime        string      `json:"pay_time"`
	Modified       string      `json:"modified"`
	Created        string      `json:"created"`
	CustomerNo     string      `json:"customer_no"`
	CustomerName   string      `json:"customer_name,omitempty"`
	BuyerNick      string      `json:"buyer_nick"`
	ReceiverName   string      `json:"receiver_name"`
	ReceiverMobile string      `json:"receiver_mobile,omitempty"`
	ReceiverTelno  string      `json:"receiver_telno,omitempty"`
	ReceiverArea   string      `json:"receiver_area,omitempty"`
	ReceiverAddr   string      `json:"receiver_address,omitempty"`
	LogisticsName  string      `json:"logistics_name,omitempty"`
	LogisticsNo    string      `json:"logistics_no"`
	BuyerMessage   string      `json:"buyer_message,omitempty"`
	CsRemark       string      `json:"cs_remark,omitempty"`
	GoodsCount     Decimal     `json:"goods_count,omitempty"`
	GoodsAmount    Decimal     `json:"goods_amount"`
	PostAmount     Decimal     `json:"post_amount"`
	Discount       Decimal     `json:"discount"`
	Receivable     Decimal     `json:"receivable"`
	Paid           Decimal     `json:"paid"`
	GoodsList      []TradeLine `json:"goods_list"`

	// VisibleAt is when the simulator lets queries see this version: a
	// document committed after its modified time (zero: at once). It is
	// never on the wire.
	VisibleAt time.Time `json:"-"`
}

// TradeLine is one element of a trade's goods_list.
type TradeLine struct {
	RecID        Text    `json:"rec_id"`
	SrcOid       string  `json:"src_oid"`
	SrcTid       string  `json:"src_tid"`
	SpecNo       string  `json:"spec_no"`
	GoodsNo      string  `json:"goods_no"`
	GoodsName    string  `json:"goods_name"`
	SpecName     string  `json:"spec_name,omitempty"`
	Num          Decimal `json:"num"`
	Price        Decimal `json:"price"`
	OrderPrice   Decimal `json:"order_price"`
	SharePrice   Decimal `json:"share_price"`
	ShareAmount  Decimal `json:"share_amount"`
	SharePost    Decimal `json:"share_post"`
	Discount     Decimal `json:"discount"`
	GiftType     Int     `json:"gift_type"`
	RefundStatus Int     `json:"refund_status"`
	TaxRate      Decimal `json:"tax_rate"`
	UnitName     string  `json:"unit_name,omitempty"`
}

// Stockin is one element of stockin_order_query_refund's "stockin_list"
// (erp.md 1.4).
type Stockin struct {
	StockinID          Text          `json:"stockin_id"`
	OrderNo            string        `json:"order_no"`
	Status             Int           `json:"status"`
	SrcOrderNo         string        `json:"src_order_no"`
	TradeNo            string        `json:"trade_no"`
	RefundNo           string        `json:"refund_no,omitempty"`
	WarehouseNo        string        `json:"warehouse_no"`
	ShopNo             string        `json:"shop_no"`
	CustomerNo         string        `json:"customer_no,omitempty"`
	CustomerName       string        `json:"customer_name,omitempty"`
	LogisticsName      string        `json:"logistics_name,omitempty"`
	LogisticsNo        string        `json:"logistics_no"`
	StockinTime        string        `json:"stockin_time"`
	CheckTime          string        `json:"check_time"`
	CreatedTime        string        `json:"created_time,omitempty"`
	Modified           string        `json:"modified"`
	GoodsAmount        Decimal       `json:"goods_amount,omitempty"`
	ActualRefundAmount Decimal       `json:"actual_refund_amount,omitempty"`
	PostFee            Decimal       `json:"post_fee,omitempty"`
	Remark             string        `json:"remark"`
	DetailsList        []StockinLine `json:"details_list"`

	// VisibleAt: as Trade.VisibleAt.
	VisibleAt time.Time `json:"-"`
}

// StockinLine is one element of a stock-in's details_list.
type StockinLine struct {
	RecID              Text    `json:"rec_id"`
	SpecNo             string  `json:"spec_no"`
	GoodsNo            string  `json:"goods_no"`
	GoodsName          string  `json:"goods_name"`
	Num                Decimal `json:"num"`
	StockinPrice       Decimal `json:"stockin_price"`
	SrcPrice           Decimal `json:"src_price"`
	ActualRefundAmount Decimal `json:"actual_refund_amount,omitempty"`
	Tid                string  `json:"tid"`
	Oid                string  `json:"oid"`
	BatchNo            string  `json:"batch_no"`
	Defect             Int     `json:"defect"`
	GoodsUnit          string  `json:"goods_unit,omitempty"`
	Modified           string  `json:"modified,omitempty"`
}

// Int is a whole number 旺店通 writes either as 110 or as "110"; an empty
// string is 0.
type Int int64

// UnmarshalJSON accepts a JSON number or a string holding one.
func (n *Int) UnmarshalJSON(b []byte) error {
	s, err := scalar(b)
	if err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not a whole number", b)
	}
	*n = Int(v)
	return nil
}

// Text is an identifier 旺店通 writes either as a number or as a string.
type Text string

// UnmarshalJSON accepts a JSON string or number.
func (t *Text) UnmarshalJSON(b []byte) error {
	s, err := scalar(b)
	*t = Text(s)
	return err
}

// Decimal is a decimal as 旺店通 writes amounts and quantities: strings
// with four (sometimes eight) decimals, "199.0000", or now and then a bare
// JSON number. It keeps the text; Money and Quantity read it without ever
// going through a float.
type Decimal string

// UnmarshalJSON accepts a JSON string or number.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s, err := scalar(b)
	*d = Decimal(s)
	return err
}

// scalar returns the text of a JSON string, number or null.
func scalar(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", nil
	case b[0] == '"' && len(b) >= 2 && bytes.IndexByte(b, '\\') < 0:
		// No escapes: the text between the quotes is the value. This is
		// nearly every field, and json.Unmarshal per field would validate
		// and reflect again.
		return string(bytes.TrimSpace(b[1 : len(b)-1])), nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		return string(b), nil
	default:
		return "", fmt.Errorf("%s is neither a string nor a number", b)
	}
}

// decimalParts splits a decimal into sign, whole and fractional digits,
// refusing anything else (exponents, spaces, two dots).
func decimalParts(s string) (neg bool, whole, frac string, err error) {
	t := s
	switch {
	case strings.HasPrefix(t, "-"):
		neg, t = true, t[1:]
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	}
	whole, frac, _ = strings.Cut(t, ".")
	if whole == "" && frac == "" {
		return false, "", "", fmt.Errorf("%q is not a decimal number", s)
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false, "", "", fmt.Errorf("%q is not a decimal number", s)
			}
		}
	}
	if whole == "" {
		whole = "0"
	}
	return neg, whole, frac, nil
}

// Quantity reads a quantity such as "1.0000" as a whole number. A
// fraction (a weighed good sold by the kilogram, "1.5000") is an error:
// the canonical order counts whole units, and rounding would lose goods.
func (d Decimal) Quantity() (int64, error) {
	neg, whole, frac, err := decimalParts(string(d))
	if err != nil {
		return 0, err
	}
	if strings.Trim(frac, "0") != "" {
		return 0, fmt.Errorf("%q is not a whole quantity", string(d))
	}
	if len(whole) > 15 {
		return 0, fmt.Errorf("%q is too large", string(d))
	}
	n, _ := strconv.ParseInt(whole, 10, 64)
	if neg {
		n = -n
	}
	return n, nil
}
