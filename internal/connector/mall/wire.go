package mall

import (
	"encoding/json"

	"github.com/go-json-experiment/json/jsontext"
)

// Order is the order document the mall pushes (field table of seed 004: one
// JSON object per order, amounts as decimal strings, times as
// "2006-01-02 15:04:05" in the shop's zone, "0000-00-00 00:00:00" for never).
// Every documented field is here so that the simulator writes the real shape
// and the decoder checks the types of what it reads.
type Order struct {
	ID                      int64           `json:"id"`
	MallID                  int64           `json:"mall_id"`
	UserID                  int64           `json:"user_id"`
	MchID                   int64           `json:"mch_id"`
	OrderNo                 string          `json:"order_no"`
	TotalPrice              *string         `json:"total_price"`
	TotalPayPrice           *string         `json:"total_pay_price"`
	ExpressOriginalPrice    *string         `json:"express_original_price"`
	ExpressPrice            *string         `json:"express_price"`
	TotalGoodsPrice         *string         `json:"total_goods_price"`
	TotalGoodsOriginalPrice *string         `json:"total_goods_original_price"`
	MemberDiscountPrice     *string         `json:"member_discount_price"`
	UseUserCouponID         int64           `json:"use_user_coupon_id"`
	CouponDiscountPrice     *string         `json:"coupon_discount_price"`
	UseIntegralNum          int64           `json:"use_integral_num"`
	IntegralDeductionPrice  *string         `json:"integral_deduction_price"`
	Name                    string          `json:"name"`
	Mobile                  string          `json:"mobile"`
	Address                 string          `json:"address"`
	AddressID               int64           `json:"address_id"`
	Remark                  string          `json:"remark"`
	Words                   string          `json:"words"`
	SellerRemark            string          `json:"seller_remark"`
	IsPay                   int             `json:"is_pay"`
	PayType                 int             `json:"pay_type"`
	PayTime                 string          `json:"pay_time"`
	IsSend                  int             `json:"is_send"`
	SendTime                string          `json:"send_time"`
	CustomerName            string          `json:"customer_name"`
	Express                 string          `json:"express"`
	ExpressNo               string          `json:"express_no"`
	IsSale                  int             `json:"is_sale"`
	IsConfirm               int             `json:"is_confirm"`
	ConfirmTime             string          `json:"confirm_time"`
	CancelStatus            int             `json:"cancel_status"`
	CancelTime              string          `json:"cancel_time"`
	CreatedAt               string          `json:"created_at"`
	UpdatedAt               string          `json:"updated_at"`
	DeletedAt               string          `json:"deleted_at"`
	IsDelete                int             `json:"is_delete"`
	IsRecycle               int             `json:"is_recycle"`
	SendType                int             `json:"send_type"`
	OfflineQrcode           string          `json:"offline_qrcode"`
	ClerkID                 int64           `json:"clerk_id"`
	StoreID                 int64           `json:"store_id"`
	Sign                    string          `json:"sign"`
	Token                   string          `json:"token"`
	SupportPayTypes         string          `json:"support_pay_types"`
	IsComment               int             `json:"is_comment"`
	CommentTime             string          `json:"comment_time"`
	SaleStatus              int             `json:"sale_status"`
	Status                  int             `json:"status"`
	BackPrice               *string         `json:"back_price"`
	AutoCancelTime          *string         `json:"auto_cancel_time"`
	AutoConfirmTime         *string         `json:"auto_confirm_time"`
	AutoSalesTime           *string         `json:"auto_sales_time"`
	Distance                int64           `json:"distance"`
	CityMobile              string          `json:"city_mobile"`
	Location                json.RawMessage `json:"location"`
	CityName                *string         `json:"city_name"`
	CityInfo                json.RawMessage `json:"city_info"`
	IsGroupSc               int             `json:"is_group_sc"`
	Platform                string          `json:"platform"`
	FundType                int             `json:"fund_type"`
	Scene                   string          `json:"scene"`
	IsWxpay                 int             `json:"is_wxpay"`
	IsBack                  int             `json:"is_back"`
	Detail                  []Detail        `json:"detail"`
	User                    *User           `json:"user"`
	PayOrderNo              string          `json:"pay_order_no"`
	Method                  string          `json:"method"`
	AppSign                 string          `json:"app_sign"`
	Parent                  *Parent         `json:"parent"`
}

// Detail is one order line.
type Detail struct {
	ID                  int64      `json:"id"`
	OrderID             int64      `json:"order_id"`
	GoodsID             int64      `json:"goods_id"`
	Num                 int64      `json:"num"`
	UnitPrice           *string    `json:"unit_price"`
	TotalOriginalPrice  *string    `json:"total_original_price"`
	TotalPrice          *string    `json:"total_price"`
	MemberDiscountPrice *string    `json:"member_discount_price"`
	GoodsInfo           *GoodsInfo `json:"goods_info"`
	IsDelete            int        `json:"is_delete"`
	CreatedAt           string     `json:"created_at"`
	UpdatedAt           string     `json:"updated_at"`
	DeletedAt           string     `json:"deleted_at"`
	IsRefund            int        `json:"is_refund"`
	RefundStatus        int        `json:"refund_status"`
	BackPrice           *string    `json:"back_price"`
	Sign                string     `json:"sign"`
	GoodsNo             string     `json:"goods_no"`
	FormData            string     `json:"form_data"`
	FormID              int64      `json:"form_id"`
	AttrList            []Attr     `json:"attr_list"`
	CoverPic            string     `json:"cover_pic"`
}

// GoodsInfo is the goods snapshot taken when the order was placed.
type GoodsInfo struct {
	AttrList  []Attr     `json:"attr_list"`
	GoodsAttr *GoodsAttr `json:"goods_attr"`
}

// Attr is one chosen specification, e.g. 颜色: 黑色.
type Attr struct {
	AttrGroupName string `json:"attr_group_name"`
	AttrGroupID   int64  `json:"attr_group_id"`
	AttrID        int64  `json:"attr_id"`
	AttrName      string `json:"attr_name"`
}

// GoodsAttr is the SKU the line was bought as.
type GoodsAttr struct {
	ID               int64           `json:"id"`
	GoodsID          int64           `json:"goods_id"`
	SignID           string          `json:"sign_id"`
	Stock            int64           `json:"stock"`
	Price            *string         `json:"price"`
	OriginalPrice    *string         `json:"original_price"`
	No               string          `json:"no"`
	Weight           int64           `json:"weight"`
	PicURL           string          `json:"pic_url"`
	IndividualShare  int             `json:"individual_share"`
	ShareType        int             `json:"share_type"`
	MemberPrice      json.RawMessage `json:"member_price"`
	IntegralPrice    json.RawMessage `json:"integral_price"`
	UseIntegral      json.RawMessage `json:"use_integral"`
	Discount         json.RawMessage `json:"discount"`
	Extra            json.RawMessage `json:"extra"`
	GoodsWarehouseID int64           `json:"goods_warehouse_id"`
	Name             string          `json:"name"`
	CoverPic         string          `json:"cover_pic"`
	PicList          string          `json:"pic_list"`
	Number           int64           `json:"number"`
	BarCode          string          `json:"bar_code"`
	CbPrice          json.RawMessage `json:"cb_price"`
	GoodsShareLevel  json.RawMessage `json:"goods_share_level"`
	AttrSettingType  int             `json:"attr_setting_type"`
}

// User is the buyer's account.
type User struct {
	Avatar   string `json:"avatar"`
	Nickname string `json:"nickname"`
	UnionID  string `json:"unionid"`
	Mobile   string `json:"mobile"`
}

// Parent is the buyer's upstream distributor (分销上级).
type Parent struct {
	Nickname string `json:"nickname"`
	Mobile   string `json:"mobile"`
}

// inbound is the part of Order the hub reads from a push; see decode. The
// documented fields it does not read are named too (mallSkipped), so that
// only names outside the field table reach Unknown, where a known name
// written in another case is caught.
type inbound struct {
	UserID                 int64         `json:"user_id"`
	OrderNo                string        `json:"order_no"`
	TotalPayPrice          *string       `json:"total_pay_price"`
	ExpressPrice           *string       `json:"express_price"`
	TotalGoodsPrice        *string       `json:"total_goods_price"`
	MemberDiscountPrice    *string       `json:"member_discount_price"`
	CouponDiscountPrice    *string       `json:"coupon_discount_price"`
	IntegralDeductionPrice *string       `json:"integral_deduction_price"`
	Name                   string        `json:"name"`
	Mobile                 string        `json:"mobile"`
	Address                string        `json:"address"`
	Remark                 string        `json:"remark"`
	IsPay                  int           `json:"is_pay"`
	PayTime                string        `json:"pay_time"`
	IsSend                 int           `json:"is_send"`
	SendTime               string        `json:"send_time"`
	Express                string        `json:"express"`
	ExpressNo              string        `json:"express_no"`
	IsConfirm              int           `json:"is_confirm"`
	ConfirmTime            string        `json:"confirm_time"`
	CancelStatus           int           `json:"cancel_status"`
	CancelTime             string        `json:"cancel_time"`
	CreatedAt              string        `json:"created_at"`
	UpdatedAt              string        `json:"updated_at"`
	BackPrice              *string       `json:"back_price"`
	Detail                 []inboundLine `json:"detail"`
	AppSign                string        `json:"app_sign"`

	mallSkipped
	Unknown map[string]skipped `json:",embed"`
}

// mallSkipped names the documented top-level fields the hub does not read.
type mallSkipped struct {
	ID                      skipped `json:"id"`
	MallID                  skipped `json:"mall_id"`
	MchID                   skipped `json:"mch_id"`
	TotalPrice              skipped `json:"total_price"`
	ExpressOriginalPrice    skipped `json:"express_original_price"`
	TotalGoodsOriginalPrice skipped `json:"total_goods_original_price"`
	UseUserCouponID         skipped `json:"use_user_coupon_id"`
	UseIntegralNum          skipped `json:"use_integral_num"`
	AddressID               skipped `json:"address_id"`
	Words                   skipped `json:"words"`
	SellerRemark            skipped `json:"seller_remark"`
	PayType                 skipped `json:"pay_type"`
	CustomerName            skipped `json:"customer_name"`
	IsSale                  skipped `json:"is_sale"`
	DeletedAt               skipped `json:"deleted_at"`
	IsDelete                skipped `json:"is_delete"`
	IsRecycle               skipped `json:"is_recycle"`
	SendType                skipped `json:"send_type"`
	OfflineQrcode           skipped `json:"offline_qrcode"`
	ClerkID                 skipped `json:"clerk_id"`
	StoreID                 skipped `json:"store_id"`
	Sign                    skipped `json:"sign"`
	Token                   skipped `json:"token"`
	SupportPayTypes         skipped `json:"support_pay_types"`
	IsComment               skipped `json:"is_comment"`
	CommentTime             skipped `json:"comment_time"`
	SaleStatus              skipped `json:"sale_status"`
	Status                  skipped `json:"status"`
	AutoCancelTime          skipped `json:"auto_cancel_time"`
	AutoConfirmTime         skipped `json:"auto_confirm_time"`
	AutoSalesTime           skipped `json:"auto_sales_time"`
	Distance                skipped `json:"distance"`
	CityMobile              skipped `json:"city_mobile"`
	Location                skipped `json:"location"`
	CityName                skipped `json:"city_name"`
	CityInfo                skipped `json:"city_info"`
	IsGroupSc               skipped `json:"is_group_sc"`
	Platform                skipped `json:"platform"`
	FundType                skipped `json:"fund_type"`
	Scene                   skipped `json:"scene"`
	IsWxpay                 skipped `json:"is_wxpay"`
	IsBack                  skipped `json:"is_back"`
	User                    skipped `json:"user"`
	PayOrderNo              skipped `json:"pay_order_no"`
	Method                  skipped `json:"method"`
	Parent                  skipped `json:"parent"`
}

type inboundLine struct {
	GoodsID    int64   `json:"goods_id"`
	Num        int64   `json:"num"`
	UnitPrice  *string `json:"unit_price"`
	TotalPrice *string `json:"total_price"`
	GoodsNo    string  `json:"goods_no"`
	AttrList   []Attr  `json:"attr_list"`
	GoodsInfo  *struct {
		AttrList  []Attr `json:"attr_list"`
		GoodsAttr *struct {
			No   string `json:"no"`
			Name string `json:"name"`
		} `json:"goods_attr"`
	} `json:"goods_info"`

	lineSkipped
	Unknown map[string]skipped `json:",embed"`
}

// lineSkipped names the documented line fields the hub does not read.
type lineSkipped struct {
	ID                  skipped `json:"id"`
	OrderID             skipped `json:"order_id"`
	TotalOriginalPrice  skipped `json:"total_original_price"`
	MemberDiscountPrice skipped `json:"member_discount_price"`
	IsDelete            skipped `json:"is_delete"`
	CreatedAt           skipped `json:"created_at"`
	UpdatedAt           skipped `json:"updated_at"`
	DeletedAt           skipped `json:"deleted_at"`
	IsRefund            skipped `json:"is_refund"`
	RefundStatus        skipped `json:"refund_status"`
	BackPrice           skipped `json:"back_price"`
	Sign                skipped `json:"sign"`
	FormData            skipped `json:"form_data"`
	FormID              skipped `json:"form_id"`
	CoverPic            skipped `json:"cover_pic"`
}

// skipped is a value the hub does not read. It is still checked as JSON,
// repeated names included, but not decoded.
type skipped struct{}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (*skipped) UnmarshalJSONFrom(d *jsontext.Decoder) error { return d.SkipValue() }
