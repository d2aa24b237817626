package mall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Generator makes realistic mall order documents in seed 004's shape: varied
// buyers, goods, amounts and life stages. It is deterministic for a seed, so
// tests and benchmarks can reproduce a run.
type Generator struct {
	mu      sync.Mutex
	rng     *rand.Rand
	appSign string
	loc     *time.Location
	seq     int64
	prefix  string
}

// NewGenerator returns a generator whose documents carry appSign and whose
// times are written in loc. Order numbers start with prefix (use distinct
// prefixes for distinct runs against the same store).
func NewGenerator(seed uint64, appSign string, loc *time.Location, prefix string) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), appSign: appSign, loc: loc, prefix: prefix}
}

var (
	surnames  = []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭"}
	givens    = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"}
	cities    = []string{"浙江省杭州市西湖区文三路", "广东省深圳市南山区科技园", "上海市浦东新区张江路", "北京市朝阳区建国路", "四川省成都市武侯区天府大道", "江苏省南京市鼓楼区中山路"}
	prefixes  = []string{"138", "139", "135", "150", "151", "158", "186", "187", "177", "199"}
	expresses = []string{"顺丰速运", "中通快递", "圆通速递", "韵达快递", "京东物流"}
	catalog   = []struct {
		name  string
		price int64 // fen
		attr  [2]string
	}{
		{"纯棉T恤", 5900, [2]string{"颜色", "黑色"}},
		{"运动鞋", 29900, [2]string{"尺码", "42"}},
		{"保温杯", 8900, [2]string{"容量", "500ml"}},
		{"蓝牙耳机", 19900, [2]string{"颜色", "白色"}},
		{"羽绒服", 89900, [2]string{"尺码", "L"}},
		{"笔记本电脑", 599900, [2]string{"配置", "16G+512G"}},
		{"茶叶礼盒", 36800, [2]string{"规格", "250g"}},
	}
)

func fen(v int64) *string {
	s := fmt.Sprintf("%d.%02d", v/100, v%100)
	return &s
}

func str(s string) *string { return &s }

const never = "0000-00-00 00:00:00"

// New makes an order placed at now, not yet paid.
func (g *Generator) New(now time.Time) *Order {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	r := g.rng
	ts := now.In(g.loc).Format(mallTime)
	no := fmt.Sprintf("%s%s%06d", g.prefix, now.In(g.loc).Format("20060102150405"), g.seq)
	id := 300000 + g.seq
	lines := 1 + r.IntN(3)
	var goods int64
	details := make([]Detail, 0, lines)
	for i := 0; i < lines; i++ {
		c := catalog[r.IntN(len(catalog))]
		num := int64(1 + r.IntN(3))
		total := c.price * num
		goods += total
		attrs := []Attr{{AttrGroupName: c.attr[0], AttrGroupID: 1, AttrID: int64(1 + i), AttrName: c.attr[1]}}
		goodsID := int64(182000 + r.IntN(900))
		details = append(details, Detail{
			ID: id*10 + int64(i), OrderID: id, GoodsID: goodsID, Num: num,
			UnitPrice: fen(c.price), TotalOriginalPrice: fen(total), TotalPrice: fen(total), MemberDiscountPrice: fen(0),
			GoodsInfo: &GoodsInfo{AttrList: attrs, GoodsAttr: &GoodsAttr{
				ID: goodsID + 13000, GoodsID: goodsID, SignID: "1", Stock: int64(r.IntN(500)), Price: fen(c.price), OriginalPrice: fen(c.price),
				No: "SKU-" + strconv.FormatInt(goodsID, 10), Name: c.name, Discount: json.RawMessage("[]"), Extra: json.RawMessage("[]"),
				GoodsWarehouseID: 72399, Number: 1, PicList: "[]",
			}},
			CreatedAt: ts, UpdatedAt: ts, DeletedAt: never, BackPrice: fen(0), FormData: "null", AttrList: attrs,
		})
	}
	freight := int64(0)
	if goods < 9900 {
		freight = 1000
	}
	discount := int64(0)
	if r.IntN(4) == 0 {
		discount = goods / 20
	}
	name := surnames[r.IntN(len(surnames))] + givens[r.IntN(len(givens))]
	phone := prefixes[r.IntN(len(prefixes))] + fmt.Sprintf("%08d", r.IntN(100000000))
	return &Order{
		ID: id, MallID: 222, UserID: 590000 + int64(r.IntN(9999)), OrderNo: no,
		TotalPrice: fen(goods + freight), TotalPayPrice: fen(goods + freight - discount),
		ExpressOriginalPrice: fen(freight), ExpressPrice: fen(freight),
		TotalGoodsPrice: fen(goods), TotalGoodsOriginalPrice: fen(goods),
		MemberDiscountPrice: fen(0), CouponDiscountPrice: fen(discount), IntegralDeductionPrice: fen(0),
		Name: name, Mobile: phone, Address: cities[r.IntN(len(cities))] + fmt.Sprintf("%d号", 1+r.IntN(300)),
		AddressID: 91000 + int64(r.IntN(999)), PayType: 3, PayTime: never, SendTime: never,
		ConfirmTime: never, CancelTime: never, CreatedAt: ts, UpdatedAt: ts, DeletedAt: never,
		Token: fmt.Sprintf("T%031d", g.seq), SupportPayTypes: `["balance"]`, CommentTime: never, Status: 1,
		BackPrice: fen(0), Scene: "1001", Detail: details,
		User:       &User{Nickname: name, UnionID: fmt.Sprintf("oAf8A5zr%020d", g.seq), Mobile: phone},
		PayOrderNo: fmt.Sprintf("HM%030d", g.seq), Method: "order_list", AppSign: g.appSign,
		Parent: &Parent{},
	}
}

// intN draws from the generator's source under its lock.
func (g *Generator) intN(n int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rng.IntN(n)
}

// Advance moves an order one step on, as the shop would at now: pay, ship,
// confirm receipt; now and then a cancellation or a refund. It reports false
// when the order has nothing left to do.
func (g *Generator) Advance(o *Order, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	ts := now.In(g.loc).Format(mallTime)
	r := g.rng
	switch {
	case o.CancelStatus == 1 || o.IsConfirm == 1 || (o.BackPrice != nil && *o.BackPrice != "0.00"):
		return false
	case o.IsPay == 0:
		if r.IntN(10) == 0 {
			o.CancelStatus, o.CancelTime = 1, ts
		} else {
			o.IsPay, o.PayTime = 1, ts
		}
	case o.IsSend == 0:
		if r.IntN(20) == 0 {
			o.BackPrice = o.TotalPayPrice
			o.IsBack = 1
		} else {
			o.IsSend, o.SendTime = 1, ts
			o.Express = expresses[r.IntN(len(expresses))]
			o.ExpressNo = fmt.Sprintf("SF%012d", r.Int64N(1e12))
		}
	default:
		o.IsConfirm, o.ConfirmTime = 1, ts
	}
	o.UpdatedAt = ts
	return true
}

// Body encodes an order as the mall sends it.
func Body(o *Order) []byte {
	b, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("mall: encoding a generated order: %v", err)) // only plain types: cannot fail
	}
	return b
}

// Pusher is the built-in mall simulator: it pushes new orders and moves earlier
// ones along their life, one document every Every, to a push URL.
type Pusher struct {
	URL    string
	Gen    *Generator
	Every  time.Duration
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time

	live []*Order
}

// Run pushes until ctx ends.
func (p *Pusher) Run(ctx context.Context) {
	t := time.NewTicker(p.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.PushOne(ctx)
		}
	}
}

// PushOne pushes one document: a new order, or a step of an earlier one.
func (p *Pusher) PushOne(ctx context.Context) {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	var o *Order
	if len(p.live) > 0 && p.Gen.intN(3) > 0 {
		i := p.Gen.intN(len(p.live))
		o = p.live[i]
		if !p.Gen.Advance(o, now) {
			p.live = append(p.live[:i], p.live[i+1:]...)
			o = p.Gen.New(now)
			p.live = append(p.live, o)
		}
	} else {
		o = p.Gen.New(now)
		p.live = append(p.live, o)
	}
	if len(p.live) > 50 {
		p.live = p.live[1:]
	}
	status, err := Push(ctx, p.Client, p.URL, Body(o))
	if err != nil {
		p.Log.Warn("mall simulator push failed", "order_no", o.OrderNo, "err", err)
		return
	}
	p.Log.Debug("mall simulator pushed", "order_no", o.OrderNo, "status", status)
}

// Push POSTs one document and returns the HTTP status; a non-2xx answer is an
// error carrying the body.
func Push(ctx context.Context, c *http.Client, url string, body []byte) (int, error) {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("push answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return resp.StatusCode, nil
}
