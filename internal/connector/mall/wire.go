package mall

import "encoding/json"

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

// inbound is the part of Order the hub reads from a push; see decode.
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
}
