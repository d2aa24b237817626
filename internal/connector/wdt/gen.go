package wdt

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"orderhub/internal/order"
)

// Catalog is the master data generated documents draw from: the codes a
// hub's demo seeds into the 金蝶 simulators as customers (shop_no),
// warehouses (warehouse_no) and materials (spec_no), so that generated
// documents map to bills those simulators accept.
type Catalog struct {
	Shops      []Shop
	Warehouses []Warehouse
	Goods      []Goods
}

// Shop is one 旺店通 shop.
type Shop struct {
	No, Name   string
	PlatformID int64
}

// Warehouse is one 旺店通 warehouse.
type Warehouse struct{ No, Name string }

// Goods is one SKU.
type Goods struct {
	SpecNo, GoodsNo, GoodsName, SpecName, Unit string
	Price                                      order.Money
}

// DefaultCatalog is a small shop's master data.
func DefaultCatalog() Catalog {
	return Catalog{
		Shops: []Shop{
			{"SHOP-TM", "天猫旗舰店", 1}, {"SHOP-JD", "京东专营店", 3}, {"SHOP-DY", "抖音小店", 69}, {"SHOP-PDD", "拼多多店", 32},
		},
		Warehouses: []Warehouse{{"WH-SH", "上海总仓"}, {"WH-GZ", "广州仓"}, {"WH-CD", "成都仓"}},
		Goods: []Goods{
			{"TS-BLK-M", "G-TS", "纯棉T恤", "黑色 M", "件", 5900},
			{"TS-WHT-L", "G-TS", "纯棉T恤", "白色 L", "件", 5900},
			{"SN-42", "G-SN", "跑步鞋", "42码", "双", 29900},
			{"CUP-500", "G-CUP", "保温杯", "500ml", "个", 8900},
			{"EAR-WHT", "G-EAR", "蓝牙耳机", "白色", "副", 19900},
			{"JKT-L", "G-JKT", "羽绒服", "L", "件", 89900},
			{"TEA-250", "G-TEA", "茶叶礼盒", "250g", "盒", 36800},
			{"NB-16G", "G-NB", "笔记本电脑", "16G+512G", "台", 599900},
		},
	}
}

func (c Catalog) clone() Catalog {
	return Catalog{Shops: slices.Clone(c.Shops), Warehouses: slices.Clone(c.Warehouses), Goods: slices.Clone(c.Goods)}
}

// Data is a set of documents to seed a simulator with.
type Data struct {
	Trades   []Trade
	Stockins []Stockin
}

// Generate makes n trades modified in [from, to] from DefaultCatalog, in
// Asia/Shanghai, and refund stock-ins for about one in eight shipped
// trades. It is deterministic for a seed; numbers start at the seed's
// last two digits times a million, so data sets of up to a million trades
// with different seeds do not collide. The modified
// times are shaped the way that breaks careless incremental pulls: about
// a tenth fall on hh:00:00 and a tenth on hh:59:59 (window edges), a sixth
// share their second with another document (ties), and one in twenty is
// committed late: VisibleAt up to five minutes after its modified time.
func Generate(n int, from, to time.Time, seed uint64) *Data {
	var trades, stockins atomic.Int64
	base := int64(seed%100) * 1_000_000
	trades.Store(base)
	stockins.Store(base)
	return generate(DefaultCatalog(), shanghai, n, from, to, seed, &trades, &stockins)
}

var (
	surnames = []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙"}
	givens   = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "杰"}
	areas    = []string{"浙江省 杭州市 西湖区", "广东省 深圳市 南山区", "上海 上海市 浦东新区", "北京 北京市 朝阳区", "四川省 成都市 武侯区", "江苏省 南京市 鼓楼区"}
	streets  = []string{"文三路", "科技园南路", "张江路", "建国路", "天府大道", "中山路"}
	carriers = []string{"顺丰速运", "中通快递", "圆通速递", "韵达快递", "京东物流"}
	// trade_status codes with weights out of 100.
	statusMix = []struct{ code, weight int }{{5, 5}, {10, 5}, {30, 10}, {55, 10}, {95, 30}, {110, 35}, {113, 5}}
	// stock-in statuses with weights out of 100.
	stockinMix = []struct{ code, weight int }{{80, 75}, {30, 10}, {20, 5}, {10, 10}}
)

func pick(r *rand.Rand, mix []struct{ code, weight int }) int {
	n := r.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.code
		}
		n -= m.weight
	}
	return mix[len(mix)-1].code
}

// dec4 writes fen with four decimals, as 旺店通 does.
func dec4(m order.Money) Decimal { return Decimal(fmt.Sprintf("%s00", m.String())) }

// per10k writes an amount in 1/10000 yuan with four decimals.
func per10k(v int64) Decimal { return Decimal(fmt.Sprintf("%d.%04d", v/10000, v%10000)) }

// generate makes the data; trade and stock-in numbers are drawn from the
// two counters.
func generate(cat Catalog, loc *time.Location, n int, from, to time.Time, seed uint64, tradeSeq, stockinSeq *atomic.Int64) *Data {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	d := &Data{Trades: make([]Trade, 0, n)}
	lo, hi := from.Unix(), to.Unix()
	if hi < lo {
		lo, hi = hi, lo
	}
	span := hi - lo + 1
	var mods []int64
	day := from.In(loc).Format("060102")
	format := func(sec int64) string { return time.Unix(sec, 0).In(loc).Format(wdtTime) }
	for i := 0; i < n; i++ {
		mod := lo + r.Int64N(span)
		switch k := r.IntN(100); {
		case k < 10: // at an hour's first second (zones here are whole hours from UTC)
			if e := mod - mod%3600; e >= lo {
				mod = e
			}
		case k < 20: // at an hour's last second
			if e := mod - mod%3600 + 3599; e <= hi {
				mod = e
			}
		case k < 37 && len(mods) > 0: // the same second as an earlier one
			mod = mods[r.IntN(len(mods))]
		}
		mods = append(mods, mod)
		seq := tradeSeq.Add(1)
		t := genTrade(r, cat, format, mod, fmt.Sprintf("%s%08d", day, seq), seq)
		if r.IntN(20) == 0 {
			t.VisibleAt = time.Unix(mod, 0).Add(time.Duration(30+r.IntN(270)) * time.Second)
		}
		if (t.TradeStatus >= 95) && r.IntN(8) == 0 {
			st := genStockin(r, &t, format, mod, hi, fmt.Sprintf("%s%08d", day, stockinSeq.Add(1)))
			d.Stockins = append(d.Stockins, st)
			t.RefundStatus = 2
			if st.Status == stockinCompleted && fullReturn(&t, &st) {
				t.RefundStatus = refundAll
			}
		}
		d.Trades = append(d.Trades, t)
	}
	return d
}

func genTrade(r *rand.Rand, cat Catalog, format func(int64) string, mod int64, no string, id int64) Trade {
	shop := cat.Shops[r.IntN(len(cat.Shops))]
	wh := cat.Warehouses[r.IntN(len(cat.Warehouses))]
	status := pick(r, statusMix)
	placed := mod - r.Int64N(48*3600)
	t := Trade{
		TradeID: Text(fmt.Sprint(id)), TradeNo: "JY" + no, PlatformID: Int(shop.PlatformID), ShopNo: shop.No, ShopName: shop.Name,
		WarehouseNo: wh.No, SrcTids: fmt.Sprintf("P%s%d", no, r.IntN(10)), TradeStatus: Int(status), TradeType: 1,
		TradeTime: format(placed), PayTime: "0000-00-00 00:00:00", Modified: format(mod), Created: format(placed + 30),
		CustomerNo: "KH" + shop.No, CustomerName: shop.Name + "顾客",
	}
	name := surnames[r.IntN(len(surnames))] + givens[r.IntN(len(givens))]
	t.BuyerNick, t.ReceiverName = fmt.Sprintf("buyer_%d", r.IntN(1_000_000)), name
	t.ReceiverMobile = fmt.Sprintf("1%d%09d", 3+r.IntN(6), r.IntN(1_000_000_000))
	ai := r.IntN(len(areas))
	t.ReceiverArea, t.ReceiverAddr = areas[ai], fmt.Sprintf("%s%d号", streets[ai], 1+r.IntN(300))
	paid := status != 10 && !(status == 5 && r.IntN(2) == 0)
	if paid {
		t.PayTime = format(min(placed+int64(10+r.IntN(1800)), mod))
	}
	if status >= 95 {
		t.LogisticsName = carriers[r.IntN(len(carriers))]
		t.LogisticsNo = fmt.Sprintf("SF%012d", r.Int64N(1e12))
	}
	lines := 1 + r.IntN(3)
	var goods order.Money
	picked := r.Perm(len(cat.Goods))[:lines]
	nums := make([]int64, lines)
	for i, gi := range picked {
		nums[i] = int64(1 + r.IntN(3))
		goods += cat.Goods[gi].Price * order.Money(nums[i])
	}
	var discount order.Money
	if r.IntN(4) == 0 {
		discount = goods / 20
	}
	var post order.Money
	if goods < 9900 {
		post = 1000
	}
	left := discount
	for i, gi := range picked {
		g := cat.Goods[gi]
		amount := g.Price * order.Money(nums[i])
		share := discount * amount / max(goods, 1)
		if i == lines-1 {
			share = left
		}
		left -= share
		lineTotal := amount - share
		// share_price in 1/10000 yuan, rounded half up: 旺店通's four decimals.
		p10k := (int64(lineTotal)*100*2 + nums[i]) / (2 * nums[i])
		t.GoodsList = append(t.GoodsList, TradeLine{
			RecID: Text(fmt.Sprint(id*10 + int64(i))), SrcOid: fmt.Sprintf("%s-%d", t.SrcTids, i+1), SrcTid: t.SrcTids,
			SpecNo: g.SpecNo, GoodsNo: g.GoodsNo, GoodsName: g.GoodsName, SpecName: g.SpecName,
			Num: Decimal(fmt.Sprintf("%d.0000", nums[i])), Price: dec4(g.Price), OrderPrice: dec4(g.Price),
			SharePrice: per10k(p10k), ShareAmount: dec4(lineTotal), SharePost: "0.0000", Discount: dec4(share),
			TaxRate: "0.1300", UnitName: g.Unit,
		})
	}
	t.GoodsCount = Decimal(fmt.Sprintf("%d.0000", sum(nums)))
	t.GoodsAmount, t.PostAmount, t.Discount = dec4(goods), dec4(post), dec4(discount)
	t.Receivable = dec4(goods + post - discount)
	t.Paid = "0.0000"
	if paid {
		t.Paid = t.Receivable
	}
	return t
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

func genStockin(r *rand.Rand, t *Trade, format func(int64) string, tradeMod, hi int64, no string) Stockin {
	status := pick(r, stockinMix)
	mod := tradeMod
	if room := min(hi-tradeMod, 72*3600); room > 0 {
		mod += r.Int64N(room + 1)
	}
	if r.IntN(10) == 0 { // a stock-in checked exactly on the hour
		if e := mod - mod%3600; e >= tradeMod {
			mod = e
		}
	}
	s := Stockin{
		StockinID: Text(fmt.Sprint(r.IntN(1_000_000))), OrderNo: "RK" + no, Status: Int(status), SrcOrderNo: "RT" + no,
		TradeNo: t.TradeNo, RefundNo: "TK" + no, WarehouseNo: t.WarehouseNo, ShopNo: t.ShopNo,
		CustomerNo: t.CustomerNo, CustomerName: t.CustomerName, LogisticsName: t.LogisticsName,
		LogisticsNo: fmt.Sprintf("YT%012d", r.Int64N(1e12)), StockinTime: format(mod - 5), CheckTime: "0000-00-00 00:00:00",
		CreatedTime: format(mod - 3600), Modified: format(mod),
	}
	if status == stockinCompleted {
		s.CheckTime = format(mod)
	}
	var goods, refund order.Money
	for i, l := range t.GoodsList {
		if i > 0 && r.IntN(10) < 4 {
			continue
		}
		lineNum, _ := l.Num.Quantity()
		num := 1 + r.Int64N(lineNum)
		price, _ := l.SharePrice.Money()
		total, _ := l.ShareAmount.Money()
		if num != lineNum {
			total = price * order.Money(num)
		}
		listPrice, _ := l.Price.Money()
		goods += listPrice * order.Money(num)
		refund += total
		s.DetailsList = append(s.DetailsList, StockinLine{
			RecID: Text(fmt.Sprint(i + 1)), SpecNo: l.SpecNo, GoodsNo: l.GoodsNo, GoodsName: l.GoodsName,
			Num: Decimal(fmt.Sprintf("%d.0000", num)), StockinPrice: l.SharePrice, SrcPrice: l.SharePrice + "0000",
			ActualRefundAmount: Decimal(total.String() + "000000"), Tid: l.SrcTid, Oid: l.SrcOid, GoodsUnit: l.UnitName, Modified: s.Modified,
		})
	}
	s.GoodsAmount = dec4(goods)
	s.ActualRefundAmount = dec4(refund)
	s.PostFee = "0.0000"
	return s
}

// fullReturn reports whether a stock-in returns every unit of a trade.
func fullReturn(t *Trade, s *Stockin) bool {
	if len(s.DetailsList) != len(t.GoodsList) {
		return false
	}
	for i := range s.DetailsList {
		if s.DetailsList[i].Num != t.GoodsList[i].Num {
			return false
		}
	}
	return true
}
